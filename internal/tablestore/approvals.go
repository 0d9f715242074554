package tablestore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/invitegate/invitegate/internal/invite"
)

// Approvals live in the address's partition, beside its invitations, so
// that the submit's one partition query finds both:
//
//	PartitionKey  the lowercased address
//	RowKey        "~approval~" + the binding ("address", or "idp-<digest>")
//	ApprovedAt, ApprovalExpires  Edm.DateTime
//	CorrelationID the start request's correlationId (for logs)
//
// The "~" prefix keeps them out of invitation listings (RowKey lt '~').
const approvalPrefix = "~approval~"

// approvalFilter selects the approval rows of one partition: the bindings
// are made of [a-z0-9-], which all sort below "~".
const approvalFilter = "(RowKey ge '" + approvalPrefix + "' and RowKey lt '" + approvalPrefix + "~')"

type approvalEntity struct {
	PartitionKey        string `json:"PartitionKey"`
	RowKey              string `json:"RowKey"`
	ApprovedAt          string `json:"ApprovedAt"`
	ApprovedAtType      string `json:"ApprovedAt@odata.type"`
	ApprovalExpires     string `json:"ApprovalExpires"`
	ApprovalExpiresType string `json:"ApprovalExpires@odata.type"`
	CorrelationID       string `json:"CorrelationID,omitempty"`
}

// Approve records a, replacing the approval with the same binding. One
// write, whatever was there: an approval carries no history.
func (s *Store) Approve(ctx context.Context, a invite.Approval) error {
	e := approvalEntity{
		PartitionKey:  a.Email,
		RowKey:        approvalPrefix + string(a.Binding),
		CorrelationID: correlationToken(a.CorrelationID),
	}
	e.ApprovedAt, e.ApprovedAtType = formatTime(a.At)
	e.ApprovalExpires, e.ApprovalExpiresType = formatTime(a.Expires)
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	_, err = s.client.UpsertEntity(ctx, b, &aztables.UpsertEntityOptions{UpdateMode: aztables.UpdateModeReplace})
	return s.classify(err, "recording the approval")
}

// approvalRow reports whether a row of an address's partition is an
// approval, and decodes it.
func approvalRow(rowKey string, raw []byte) (invite.Approval, bool, error) {
	binding, ok := strings.CutPrefix(rowKey, approvalPrefix)
	if !ok {
		return invite.Approval{}, false, nil
	}
	var e approvalEntity
	if err := json.Unmarshal(raw, &e); err != nil {
		return invite.Approval{}, true, fmt.Errorf("an approval is not readable: %v", err)
	}
	a := invite.Approval{Email: e.PartitionKey, Binding: invite.Binding(binding), CorrelationID: e.CorrelationID}
	var err error
	if a.At, err = parseTime(e.ApprovedAt); err != nil {
		return a, true, fmt.Errorf("an approval is not readable: %v", err)
	}
	if a.Expires, err = parseTime(e.ApprovalExpires); err != nil {
		return a, true, fmt.Errorf("an approval is not readable: %v", err)
	}
	return a, true, nil
}
