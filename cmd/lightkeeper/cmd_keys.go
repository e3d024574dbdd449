package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/lightkeeper-net/lightkeeper/internal/setup"
)

func init() {
	register("keys", "manage keeper keys: 'keys new --out FILE', 'keys show FILE'", cmdKeys)
}

func cmdKeys(ctx context.Context, args []string) error {
	if len(args) == 0 || (args[0] != "new" && args[0] != "show") {
		return usagef("usage: lightkeeper keys new --out FILE | keys show FILE")
	}
	fs := newFlags("keys "+args[0], "keys new --out FILE | keys show FILE")
	out := fs.String("out", "", "where to write the new key")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if args[0] == "new" {
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
		fmt.Println(setup.KeyID(k))
		return nil
	}
	if len(pos) != 1 {
		return usagef("keys show takes one key file")
	}
	k, err := setup.ReadKey(pos[0])
	if err != nil {
		return err
	}
	fmt.Println(setup.KeyID(k))
	return nil
}
