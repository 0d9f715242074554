package main

import (
	"context"

	"github.com/invitegate/invitegate/internal/invite"
)

func revokeCommand() command {
	return keyCommand(keyAction{
		name:     "revoke",
		summary:  "withdraw invitations (sign-ups with them are blocked at once)",
		done:     "revoked",
		outcomes: []string{"revoked", "already revoked", "not found"},
		each: func(ctx context.Context, s invite.AdminStore, k invite.Key) (string, error) {
			outcome := "revoked"
			err := s.Update(ctx, k, func(cur *invite.Invitation) (*invite.Invitation, error) {
				switch {
				case cur == nil:
					outcome = "not found"
					return nil, nil
				case cur.Status == invite.StatusRevoked:
					outcome = "already revoked"
					return nil, nil
				}
				outcome = "revoked"
				cur.Status = invite.StatusRevoked
				return cur, nil
			})
			return outcome, err
		},
	})
}
