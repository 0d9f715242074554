package armschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
)

// StackFile is a Functions stack record (what the platform offers for one
// language stack) with its provenance.
type StackFile struct {
	Provenance Provenance      `json:"provenance"`
	Stack      json.RawMessage `json:"stack"`
}

// ReadStackFile reads a stack file from testdata.
func ReadStackFile(path string) (*StackFile, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f StackFile
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if f.Provenance.Repository == "" || f.Provenance.Commit == "" || f.Provenance.SHA256 == "" {
		return nil, fmt.Errorf("%s: the provenance header lacks the repository, commit or sha256", path)
	}
	return &f, nil
}

// FlexOffer is what a stack offers on Flex Consumption (SKU FC1).
type FlexOffer struct {
	Runtime, Version    string // functionAppConfig.runtime
	MemoryMB            []int  // instanceMemoryMB sizes
	DefaultMemoryMB     int
	LowestMaxInstances  int // the least maximumInstanceCount may be
	HighestMaxInstances int // the most it may be
	DefaultMaxInstances int
}

// stackRecord is the part of a stack record FlexOffer reads.
type stackRecord struct {
	Properties struct {
		MajorVersions []struct {
			MinorVersions []struct {
				StackSettings struct {
					LinuxRuntimeSettings *struct {
						Sku []struct {
							SkuCode        string `json:"skuCode"`
							InstanceMemory []struct {
								Size      string `json:"size"`
								IsDefault bool   `json:"isDefault"`
							} `json:"instanceMemoryMB"`
							MaximumInstanceCount *struct {
								Lowest  int `json:"lowestMaximumInstanceCount"`
								Highest int `json:"highestMaximumInstanceCount"`
								Default int `json:"defaultValue"`
							} `json:"maximumInstanceCount"`
							Config *struct {
								Runtime struct {
									Name    string `json:"name"`
									Version string `json:"version"`
								} `json:"runtime"`
							} `json:"functionAppConfigProperties"`
						} `json:"Sku"`
					} `json:"linuxRuntimeSettings"`
				} `json:"stackSettings"`
			} `json:"minorVersions"`
		} `json:"majorVersions"`
	} `json:"properties"`
}

// ParseFlexOffer reads the FC1 entry of a stack record. It fails unless the
// record has exactly one, complete.
func ParseFlexOffer(stack []byte) (FlexOffer, error) {
	var rec stackRecord
	if err := json.Unmarshal(stack, &rec); err != nil {
		return FlexOffer{}, fmt.Errorf("stack record: %v", err)
	}
	var offers []FlexOffer
	for _, major := range rec.Properties.MajorVersions {
		for _, minor := range major.MinorVersions {
			linux := minor.StackSettings.LinuxRuntimeSettings
			if linux == nil {
				continue
			}
			for _, sku := range linux.Sku {
				if sku.SkuCode != "FC1" {
					continue
				}
				if sku.Config == nil || sku.MaximumInstanceCount == nil || len(sku.InstanceMemory) == 0 {
					return FlexOffer{}, fmt.Errorf("stack record: the FC1 entry lacks functionAppConfigProperties, maximumInstanceCount or instanceMemoryMB")
				}
				o := FlexOffer{
					Runtime:             sku.Config.Runtime.Name,
					Version:             sku.Config.Runtime.Version,
					LowestMaxInstances:  sku.MaximumInstanceCount.Lowest,
					HighestMaxInstances: sku.MaximumInstanceCount.Highest,
					DefaultMaxInstances: sku.MaximumInstanceCount.Default,
				}
				for _, m := range sku.InstanceMemory {
					n, err := strconv.Atoi(m.Size)
					if err != nil {
						return FlexOffer{}, fmt.Errorf("stack record: instance memory %q: %v", m.Size, err)
					}
					o.MemoryMB = append(o.MemoryMB, n)
					if m.IsDefault {
						o.DefaultMemoryMB = n
					}
				}
				offers = append(offers, o)
			}
		}
	}
	if len(offers) != 1 {
		return FlexOffer{}, fmt.Errorf("stack record: %d FC1 entries, want 1", len(offers))
	}
	return offers[0], nil
}
