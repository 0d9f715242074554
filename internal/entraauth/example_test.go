package entraauth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"

	"github.com/invitegate/invitegate/internal/entraauth"
)

// A refused request carries what the server needs for its answer: the
// status, the WWW-Authenticate challenge, and (for the log) which check
// failed.
func Example() {
	settings := map[string]string{
		"ENTRA_AUTH":           "easyauth",
		"WEBSITE_AUTH_ENABLED": "true",
		"ENTRA_TENANT_ID":      "7d1c0b6e-1111-4a2b-9c3d-0a0b0c0d0e0f",
	}
	a, err := entraauth.New(context.Background(), entraauth.Options{
		Getenv: func(k string) string { return settings[k] },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	r := httptest.NewRequest("POST", "/api/attributeStart", nil)

	var e *entraauth.Error
	if errors.As(a.Authenticate(r), &e) {
		fmt.Println(e.HTTPStatus(), e.WWWAuthenticate())
		fmt.Println(e.Check)
	}
	// Output:
	// 401 Bearer
	// principal
}

// Settings errors name the setting and say what to set.
func ExampleNew_settingsError() {
	_, err := entraauth.New(context.Background(), entraauth.Options{
		Getenv: func(string) string { return "" },
	})
	fmt.Println(err)
	// Output:
	// ENTRA_TENANT_ID is not set: set it to your External ID tenant's id (a GUID)
}
