package invitetest

import (
	"context"
	"sort"

	"github.com/invitegate/invitegate/internal/invite"
)

// Approve implements invite.Store.
func (m *Memory) Approve(ctx context.Context, a invite.Approval) error {
	if err := m.enter(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.approvals == nil {
		m.approvals = make(map[string]map[invite.Binding]invite.Approval)
	}
	if m.approvals[a.Email] == nil {
		m.approvals[a.Email] = make(map[invite.Binding]invite.Approval)
	}
	m.approvals[a.Email][a.Binding] = a
	return nil
}

// approvalsOf returns email's approvals in binding order. m.mu is held.
func (m *Memory) approvalsOf(email string) []invite.Approval {
	var out []invite.Approval
	for _, a := range m.approvals[email] {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Binding < out[j].Binding })
	return out
}
