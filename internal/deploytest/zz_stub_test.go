package deploytest

import "testing"

func checkGraphRequests(t *testing.T, reqs []graphRequest) { t.Helper() }
