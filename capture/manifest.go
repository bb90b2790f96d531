package capture

import (
	"encoding/json"
	"fmt"
	"os"
)

func parseManifestFile(p string) (*Manifest, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if _, ok := m.File(VmcoreName); !ok {
		return nil, fmt.Errorf("%s lists no %s", p, VmcoreName)
	}
	return &m, nil
}
