// Package cli is vpnkeys' command line: one file per noun, each command a
// thin layer that parses flags, calls the authority service and prints.
// Errors become exit codes in one table (exitCode): 2 for usage and
// validation, 1 for everything else.
package cli
