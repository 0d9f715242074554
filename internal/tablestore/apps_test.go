package tablestore_test

import (
	"testing"

	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/invite/invitetest"
	"github.com/invitegate/invitegate/internal/tablestore"
	"github.com/invitegate/invitegate/internal/testutil/azurite"
)

func TestAppsConformance(t *testing.T) {
	conn := azurite.Connection(t)
	invitetest.RunApps(t, func(t *testing.T) invitetest.AppStore { return newTable(t, conn, tablestore.Options{}) })
}

func TestMemoryAppsConformance(t *testing.T) {
	invitetest.RunApps(t, func(t *testing.T) invitetest.AppStore { return invitetest.NewMemory() })
}

func TestSentConformance(t *testing.T) {
	conn := azurite.Connection(t)
	invitetest.RunSent(t, func(t *testing.T) invite.AdminStore { return newTable(t, conn, tablestore.Options{}) })
}

func TestMemorySentConformance(t *testing.T) {
	invitetest.RunSent(t, func(t *testing.T) invite.AdminStore { return invitetest.NewMemory() })
}
