//go:build !linux

package main

import "syscall"

// childProcAttr: elsewhere than on Linux a server the test starts is
// stopped by the test's cleanup only.
func childProcAttr() *syscall.SysProcAttr { return nil }
