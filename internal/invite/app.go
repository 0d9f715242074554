package invite

import "errors"

// App is an application people are invited to, as the registry of
// applications keeps it: its appId (or AnyApp), the name invitation
// messages show, and the address of its sign-up page.
type App struct {
	// ID is the application's appId, or AnyApp for the page that serves
	// invitations valid for any application.
	ID string
	// Name is the application's name as people know it ("Contoso Portal").
	Name string
	// SignupURL is the sign-up page, with {email} where the invited address
	// goes, such as https://portal.contoso.com/signup?login_hint={email}.
	SignupURL string
}

// ErrAppNotFound: the application is not in the registry.
var ErrAppNotFound = errors.New("application not registered")
