package entraauth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"

	"github.com/invitegate/invitegate/internal/entraauth"
	"github.com/invitegate/invitegate/internal/entraauth/entratest"
)

// A refused request carries what the server needs for its answer: the
// status and the WWW-Authenticate challenge, which are the same whatever
// check failed, and (for the log only) which check failed.
func Example() {
	tenant := entratest.NewTenant()
	defer tenant.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := entraauth.New(ctx, tenant.Config(), entraauth.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := a.WaitReady(ctx); err != nil {
		fmt.Println(err)
		return
	}

	for _, tok := range []string{
		tenant.Token(),
		tenant.Token(entratest.WithAudience("0badbad0-3333-4ddd-8eee-0123456789ab")),
		tenant.Token(entratest.WithTenant("0badbad0-2222-4bbb-8ccc-0123456789ab")),
	} {
		r := httptest.NewRequest("POST", "/api/attributeStart", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		var e *entraauth.Error
		switch err := a.Authenticate(r); {
		case err == nil:
			fmt.Println("accepted")
		case errors.As(err, &e):
			fmt.Println(e.HTTPStatus(), e.WWWAuthenticate(), "check:", e.Check())
		}
	}
	// Output:
	// accepted
	// 401 Bearer error="invalid_token" check: audience
	// 401 Bearer error="invalid_token" check: tenant
}

// ConfigFromEnv reads the function app's settings; its errors name the
// setting and say what to set.
func ExampleConfigFromEnv() {
	_, err := entraauth.ConfigFromEnv(func(string) string { return "" })
	fmt.Println(err)

	settings := map[string]string{"ENTRA_AUTH": "off", "WEBSITE_SITE_NAME": "invitegate-fn"}
	_, err = entraauth.ConfigFromEnv(func(k string) string { return settings[k] })
	fmt.Println(err)
	// Output:
	// ENTRA_TENANT_ID is not set: set it to your External ID tenant's id (a GUID)
	// ENTRA_AUTH is off but WEBSITE_SITE_NAME is set, so this is running in Azure: refusing to accept unauthenticated requests there; set ENTRA_AUTH to jwt (or easyauth)
}
