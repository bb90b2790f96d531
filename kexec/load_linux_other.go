//go:build linux && !arm && !arm64

package kexec

import "errors"

// load gives the files to kexec_file_load (x86_64 and the rest): the
// kernel builds what kexec_load would need from us.
func load(o Options) (Loaded, error) {
	if o.Method == MethodLoad {
		return Loaded{}, errors.New("kexec_load with segments built here exists for ARM32 and arm64 only: load with kexec_file_load (method auto or file)")
	}
	return Loaded{Method: MethodFile}, loadFile(o)
}

func unload(crash bool) error { return unloadFile(crash) }
