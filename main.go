// Command saltmail mails Salt admins when a state run failed or changed
// something, and stays silent otherwise.
package main

import (
	"os"

	"github.com/saltmail/saltmail/cmd"
)

func main() {
	os.Exit(cmd.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
