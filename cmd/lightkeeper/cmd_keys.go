package main

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/lightkeeper-net/lightkeeper/internal/setup"
)

func init() { register(newKeysCmd) }

func newKeysCmd() *cobra.Command {
	newCmd := &cobra.Command{
		Use:   "new --out FILE",
		Short: "write a new keeper key and print its id",
		Args:  exactArgs(0, ""),
	}
	out := newCmd.Flags().String("out", "", "where to write the new key (required)")
	newJSON := jsonFlag(newCmd.Flags(), "print {\"key_id\": …, \"file\": …}")
	newCmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if *out == "" {
			return usagef("--out is required")
		}
		if _, err := os.Stat(*out); err == nil {
			return fmt.Errorf("%s exists: refusing to overwrite a key", *out)
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
		k := setup.NewKey()
		if err := setup.WriteKey(*out, k); err != nil {
			return err
		}
		return printKeyID(k, *out, *newJSON)
	}
	show := &cobra.Command{
		Use:   "show FILE",
		Short: "print the id of the key in FILE",
		Args:  exactArgs(1, "one key file"),
	}
	showJSON := jsonFlag(show.Flags(), "print {\"key_id\": …, \"file\": …}")
	show.RunE = func(cmd *cobra.Command, args []string) error {
		k, err := setup.ReadKey(args[0])
		if err != nil {
			return err
		}
		return printKeyID(k, args[0], *showJSON)
	}
	return group("keys", "manage keeper keys: 'keys new --out FILE', 'keys show FILE'", "", "command", newCmd, show)
}

func printKeyID(k ed25519.PrivateKey, file string, asJSON bool) error {
	if asJSON {
		return printJSON(map[string]any{"key_id": setup.KeyID(k), "file": file})
	}
	_, err := fmt.Println(setup.KeyID(k))
	return err
}
