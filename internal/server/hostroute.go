package server

import (
	"net/http"
	"strings"
)

// hostRoutes serves a request whose path names one of routes the way the
// Azure Functions host matches a function's route: ignoring ASCII case and
// one trailing slash. Everything else goes to notFound.
//
// The host routes with ASP.NET Core, whose route matching compares
// literal segments case-insensitively and ignores a trailing slash
// (RoutePatternMatcher, PathTokenizer in dotnet/aspnetcore), and then
// forwards the request's own path to the handler
// (DefaultHttpWorkerService.GetPathValue in Azure/azure-functions-host). So
// a request the host accepts for /api/attributeStart may arrive here as
// /API/AttributeStart or /api/attributeStart/, and it must not 404.
func hostRoutes(routes map[string]http.Handler, notFound http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimSuffix(r.URL.Path, "/")
		for route, h := range routes {
			if equalFoldASCII(p, route) {
				h.ServeHTTP(w, r)
				return
			}
		}
		notFound.ServeHTTP(w, r)
	})
}

// equalFoldASCII reports whether a and b are equal, ignoring the case of
// ASCII letters only.
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
