package graph

import (
	"testing"

	"github.com/invitegate/invitegate/internal/testutil/fixtures"
)

// BenchmarkCheckShape measures the shape check on every request fixture,
// beside the fuzz oracle that compares keys pairwise (docs/performance.md,
// "Decode").
func BenchmarkCheckShape(b *testing.B) {
	names, bodies := fixtures.Requests(b)
	for _, impl := range []struct {
		name  string
		check func([]byte) error
	}{{"tokens", checkShape}, {"oracle", checkShapeTokens}} {
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
