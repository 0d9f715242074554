package invite

import "testing"

func TestCheckPublicDomain(t *testing.T) {
	for subject, public := range map[string]bool{
		"@gmail.com":         true,
		"@outlook.com":       true,
		"@proton.me":         true,
		"@yahoo.co.uk":       true,
		"alex@gmail.com":     false, // one address: fine
		"@example.org":       false,
		"@mail.gmail.com":    false, // another domain
		"@gmail.com.example": false,
	} {
		err := CheckPublicDomain(Key{Subject: subject, App: AnyApp})
		if (err != nil) != public {
			t.Errorf("CheckPublicDomain(%s) = %v, want public %v", subject, err, public)
		}
	}
}
