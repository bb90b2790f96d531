// Package power switches a real board on and off: with the user's own
// commands (a USB relay, a smart plug, a lab PDU's tool), run as argv
// without a shell, or by asking the user at the terminal to press the
// board's button.
package power

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	"github.com/kdumpkit/kdumpkit/boards"
)

// Switch is how a run powers a board.
type Switch interface {
	// On powers the board on, or resets it if it is on.
	On(ctx context.Context) error
	// Off powers it off; a board without an off command stays on.
	Off(ctx context.Context) error
}

// For is the board's switch: its commands, or the user.
func For(p boards.Power, in io.Reader, out io.Writer) Switch {
	if p.Manual {
		return &Manual{In: in, Out: out}
	}
	return &Commands{OnCmd: p.On, OffCmd: p.Off, ResetCmd: p.Reset, Log: out}
}

// Commands runs the board file's power commands.
type Commands struct {
	OnCmd, OffCmd, ResetCmd []string
	Log                     io.Writer
}

// On runs reset when there is one (a board already on restarts into
// U-Boot), else off then on.
func (c *Commands) On(ctx context.Context) error {
	if len(c.ResetCmd) > 0 {
		return c.run(ctx, "reset", c.ResetCmd)
	}
	if len(c.OffCmd) > 0 {
		// A board that is already off may make the off command fail
		// (a PDU that refuses, a pid file that is gone): only on counts.
		if err := c.run(ctx, "off", c.OffCmd); err != nil {
			fmt.Fprintf(c.Log, "power: %v; powering on anyway\n", err)
		}
		time.Sleep(time.Second) // let the supply drain, as a hand on the switch would
	}
	return c.run(ctx, "on", c.OnCmd)
}

// Off runs the off command, if the board file has one.
func (c *Commands) Off(ctx context.Context) error {
	if len(c.OffCmd) == 0 {
		return nil
	}
	return c.run(ctx, "off", c.OffCmd)
}

func (c *Commands) run(ctx context.Context, what string, argv []string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	fmt.Fprintf(c.Log, "power: %s: %s\n", what, strings.Join(argv, " "))
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("power.%s command %q: %w: %s", what, argv[0], err, strings.Join(strings.Fields(string(out)), " "))
	}
	return nil
}

// Manual asks the user.
type Manual struct {
	In  io.Reader
	Out io.Writer
}

// On asks the user to reset the board and waits for Enter; kdumpkit is
// already watching the console, so U-Boot's banner is not missed.
func (m *Manual) On(ctx context.Context) error {
	fmt.Fprintf(m.Out, "power: press the board's reset button (or power it on), then press Enter here: ")
	done := make(chan error, 1)
	go func() {
		_, err := bufio.NewReader(m.In).ReadString('\n')
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("power: waiting for Enter: %w (run from a terminal, or give the board power.on/power.reset commands)", err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Off leaves a manual board as it is: the capture kernel powers it off.
func (m *Manual) Off(context.Context) error { return nil }
