package kexec

import "strings"

func splitLines(s string) []string { return strings.Split(s, "\n") }

func containsAny(s string, subs ...string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}
