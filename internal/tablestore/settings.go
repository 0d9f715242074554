// Package tablestore keeps invitations in Azure Table Storage (or Azurite,
// its local emulator). It implements invite.Store; Table Storage types and
// errors never leave this package.
package tablestore

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/invitegate/invitegate/internal/loopback"
)

// DevelopmentConnection is the well-known connection string of a local
// Azurite Table service on 127.0.0.1:10002. The Azure SDK does not accept
// the "UseDevelopmentStorage=true" shorthand, so the store expands it to this.
const DevelopmentConnection = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
	"AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
	"TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;"

// DefaultTable is the invitation table's name when INVITATIONS_TABLE is unset.
const DefaultTable = "invitations"

// Settings say where the invitation table is. Exactly one of Connection and
// ServiceURL is set.
type Settings struct {
	// Connection is a storage connection string (shared key).
	Connection string
	// ServiceURL is the Table service endpoint, such as
	// https://ACCOUNT.table.core.windows.net, reached with a Microsoft Entra
	// credential (managed identity in Azure, developer sign-in locally).
	ServiceURL string
	// Table is the table's name.
	Table string
}

// Setting names.
const (
	EnvConnection = "INVITATIONS_CONNECTION"
	EnvServiceURL = "INVITATIONS_TABLE_SERVICE_URL"
	EnvTable      = "INVITATIONS_TABLE"
)

// SettingsFromEnv reads INVITATIONS_CONNECTION, INVITATIONS_TABLE_SERVICE_URL
// and INVITATIONS_TABLE through getenv, and checks them.
func SettingsFromEnv(getenv func(string) string) (Settings, error) {
	s := Settings{
		Connection: strings.TrimSpace(getenv(EnvConnection)),
		ServiceURL: strings.TrimSpace(getenv(EnvServiceURL)),
		Table:      strings.TrimSpace(getenv(EnvTable)),
	}
	return s.Check()
}

var tableName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]{2,62}$`)

// Check validates s, fills defaults and expands UseDevelopmentStorage=true.
// Its errors name the setting and say what to do.
func (s Settings) Check() (Settings, error) {
	if s.Table == "" {
		s.Table = DefaultTable
	}
	if !tableName.MatchString(s.Table) || strings.EqualFold(s.Table, "tables") {
		return s, fmt.Errorf("%s %q is not a valid table name: use 3 to 63 letters and digits, starting with a letter", EnvTable, s.Table)
	}
	switch {
	case s.Connection == "" && s.ServiceURL == "":
		return s, fmt.Errorf("no invitation store is configured: set %s to the Table service URL (https://ACCOUNT.table.core.windows.net, used with the app's managed identity), or %s to a storage connection string (UseDevelopmentStorage=true for a local Azurite)", EnvServiceURL, EnvConnection)
	case s.Connection != "" && s.ServiceURL != "":
		return s, fmt.Errorf("both %s and %s are set: set only one (%s for a managed identity, %s for a connection string)", EnvServiceURL, EnvConnection, EnvServiceURL, EnvConnection)
	case s.ServiceURL != "":
		u, err := url.Parse(s.ServiceURL)
		if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && loopback.URL(u))) {
			return s, fmt.Errorf("%s %q is not a Table service URL: use https://ACCOUNT.table.core.windows.net", EnvServiceURL, s.ServiceURL)
		}
		s.ServiceURL = strings.TrimRight(s.ServiceURL, "/")
	default:
		if isDevelopmentStorage(s.Connection) {
			s.Connection = DevelopmentConnection
		}
		if !strings.Contains(strings.ToLower(s.Connection), "accountname=") && !strings.Contains(strings.ToLower(s.Connection), "sharedaccesssignature=") {
			return s, fmt.Errorf("%s is not a storage connection string: it needs AccountName and AccountKey (or UseDevelopmentStorage=true for a local Azurite)", EnvConnection)
		}
	}
	return s, nil
}

// Where returns a description of the store that is safe to log: the
// endpoint and table, never a key.
func (s Settings) Where() string {
	if s.ServiceURL != "" {
		return s.ServiceURL + "/" + s.Table
	}
	for _, part := range strings.Split(s.Connection, ";") {
		k, v, _ := strings.Cut(part, "=")
		if strings.EqualFold(k, "TableEndpoint") {
			return strings.TrimRight(v, "/") + "/" + s.Table
		}
	}
	return accountName(s.Connection) + "/" + s.Table
}

func accountName(conn string) string {
	for _, part := range strings.Split(conn, ";") {
		k, v, _ := strings.Cut(part, "=")
		if strings.EqualFold(strings.TrimSpace(k), "AccountName") {
			return "account " + strings.TrimSpace(v)
		}
	}
	return "connection string"
}

func isDevelopmentStorage(conn string) bool {
	c := strings.ToLower(strings.ReplaceAll(conn, " ", ""))
	return strings.TrimSuffix(c, ";") == "usedevelopmentstorage=true"
}
