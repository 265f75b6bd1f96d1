// Package jsfunc runs the JavaScript functions of an App Services export
// (functions/<name>.js) as App Services ran them: compiled once with
// github.com/dop251/goja, each call in a fresh runtime that sees the
// App Services globals (context, BSON, EJSON, console), reading its
// collections through a Data the caller binds.
package jsfunc
