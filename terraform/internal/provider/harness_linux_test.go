//go:build linux

package provider

import "syscall"

// childProcAttr makes the kernel kill the Interim server if the test binary dies without cleaning up.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
