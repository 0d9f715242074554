//go:build race

package e2e_test

// raceEnabled: the tests run under the race detector, so the handler is
// built with it too.
const raceEnabled = true
