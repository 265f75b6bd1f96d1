package main

import "syscall"

// childProcAttr makes a server the test starts die with the test binary,
// however it exits.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
