package tablestore_test

import (
	"testing"

	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/invite/invitetest"
	"github.com/invitegate/invitegate/internal/tablestore"
	"github.com/invitegate/invitegate/internal/testutil/azurite"
)

func TestAdminConformance(t *testing.T) {
	conn := azurite.Connection(t)
	invitetest.RunAdmin(t, func(t *testing.T) invite.AdminStore { return newTable(t, conn, tablestore.Options{}) })
}

func TestMemoryAdminConformance(t *testing.T) {
	invitetest.RunAdmin(t, func(t *testing.T) invite.AdminStore { return invitetest.NewMemory() })
}
