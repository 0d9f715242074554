package main

import (
	"context"
	"errors"

	"github.com/invitegate/invitegate/internal/invite"
)

func deleteCommand() command {
	return keyCommand(keyAction{
		name:     "delete",
		summary:  "remove invitations and their history",
		done:     "deleted",
		outcomes: []string{"deleted", "not found"},
		each: func(ctx context.Context, s invite.AdminStore, k invite.Key) (string, error) {
			err := s.Delete(ctx, k)
			if errors.Is(err, invite.ErrNotFound) {
				return "not found", nil
			}
			return "deleted", err
		},
	})
}
