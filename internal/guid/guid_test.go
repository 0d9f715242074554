package guid_test

import (
	"fmt"
	"testing"

	"github.com/invitegate/invitegate/internal/guid"
)

func TestValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s    string
		want bool
	}{
		{"7d1c0b6e-1111-4a2b-9c3d-0a0b0c0d0e0f", true},
		{"00000000-0000-0000-0000-000000000000", true},
		{"7D1C0B6E-1111-4A2B-9C3D-0A0B0C0D0E0F", false}, // not canonical: Normalize first
		{"7d1c0b6e-1111-4a2b-9c3d-0a0b0c0d0e0F", false},
		{" 7d1c0b6e-1111-4a2b-9c3d-0a0b0c0d0e0f", false},
		{"{7d1c0b6e-1111-4a2b-9c3d-0a0b0c0d0e0f}", false},
		{"7d1c0b6e11114a2b9c3d0a0b0c0d0e0f", false},
		{"7d1c0b6e-1111-4a2b-9c3d-0a0b0c0d0e0", false},
		{"7d1c0b6e-1111-4a2b-9c3d-0a0b0c0d0e0f0", false},
		{"7d1c0b6e-1111-4a2b-9c3d_0a0b0c0d0e0f", false},
		{"7d1c0b6e-1111-4a2b-9c3d-0a0b0c0d0e0g", false},
		{"7d1c0b6e-1111-4a2b-9c3d-0a0b0c0d0e-f", false},
		{"contoso.onmicrosoft.com", false},
		{"", false},
		{"*", false},
		{"7d1c0b6e-1111-4a2b-9c3d-0a0b0c0d0eé", false}, // 36 bytes, not 36 hex digits
	}
	for _, tt := range tests {
		if got := guid.Valid(tt.s); got != tt.want {
			t.Errorf("Valid(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s, want string
		ok      bool
	}{
		{"7d1c0b6e-1111-4a2b-9c3d-0a0b0c0d0e0f", "7d1c0b6e-1111-4a2b-9c3d-0a0b0c0d0e0f", true},
		{" 7D1C0B6E-1111-4A2B-9C3D-0A0B0C0D0E0F\t", "7d1c0b6e-1111-4a2b-9c3d-0a0b0c0d0e0f", true},
		{"{7D1C0B6E-1111-4A2B-9C3D-0A0B0C0D0E0F}", "{7d1c0b6e-1111-4a2b-9c3d-0a0b0c0d0e0f}", false},
		{"Contoso", "contoso", false},
	}
	for _, tt := range tests {
		got, ok := guid.Normalize(tt.s)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Normalize(%q) = %q, %v; want %q, %v", tt.s, got, ok, tt.want, tt.ok)
		}
	}
}

func ExampleNormalize() {
	id, ok := guid.Normalize(" 7D1C0B6E-1111-4A2B-9C3D-0A0B0C0D0E0F ")
	fmt.Println(id, ok)
	fmt.Println(guid.Valid("7D1C0B6E-1111-4A2B-9C3D-0A0B0C0D0E0F"))
	// Output:
	// 7d1c0b6e-1111-4a2b-9c3d-0a0b0c0d0e0f true
	// false
}
