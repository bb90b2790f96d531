package rootfs

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/kdumpkit/kdumpkit/boards"
	"github.com/kdumpkit/kdumpkit/protocol"
)

// ForBoard builds a board's two images into dir — the capture initramfs,
// then the main one carrying it, the crash kernel image and /kdump/config
// (the board's capture settings for kdumpinit) — and returns the main
// image's path.
func ForBoard(ctx context.Context, b *boards.Board, kernelImage, dir string, log io.Writer) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	moduleDir, err := goEnv("GOMOD")
	if err != nil || moduleDir == "" || moduleDir == os.DevNull {
		return "", fmt.Errorf("rootfs: run from the kdumpkit module (go env GOMOD = %q)", moduleDir)
	}
	moduleDir = filepath.Dir(moduleDir)
	config := filepath.Join(dir, "kdump.config")
	text := protocol.Config{CrashCmdline: b.Kernel.CrashCmdline, Targets: strings.Join(b.Kdump.Targets, ","), Kexec: b.Kdump.Kexec}.File(b.Path)
	if old, err := os.ReadFile(config); err != nil || string(old) != text {
		if err := os.WriteFile(config, []byte(text), 0o644); err != nil {
			return "", err
		}
	}
	capture := &Image{GOARCH: b.GOARCH(), GOARM: b.GOARM(), ModuleDir: moduleDir, Commands: CaptureCommands,
		Files: map[string]string{"/kdump/config": config}, Out: filepath.Join(dir, "capture.cpio.gz"), Log: log}
	if _, err := capture.Build(ctx); err != nil {
		return "", err
	}
	main := &Image{GOARCH: b.GOARCH(), GOARM: b.GOARM(), ModuleDir: moduleDir, Commands: MainCommands,
		Files: map[string]string{"/kdump/config": config, "/kdump/kernel": kernelImage, "/kdump/capture.cpio.gz": capture.Out},
		Out:   filepath.Join(dir, "initramfs.cpio.gz"), Log: log}
	if _, err := main.Build(ctx); err != nil {
		return "", err
	}
	return main.Out, nil
}
