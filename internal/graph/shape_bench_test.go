package graph

import (
	"testing"

	"github.com/invitegate/invitegate/internal/testutil/fixtures"
)

// BenchmarkCheckShape compares the byte scanner with the token walk it
// replaced, on every request fixture (docs/performance.md, "Decode").
func BenchmarkCheckShape(b *testing.B) {
	names, bodies := fixtures.Requests(b)
	for _, impl := range []struct {
		name  string
		check func([]byte) error
	}{{"scanner", checkShape}, {"tokens", checkShapeTokens}} {
		b.Run(impl.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				for _, n := range names {
					if err := impl.check(bodies[n]); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
