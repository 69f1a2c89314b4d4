//go:build !linux

package provider

import "syscall"

// childProcAttr: outside Linux there is no parent-death signal; TestMain stops the server itself.
func childProcAttr() *syscall.SysProcAttr { return nil }
