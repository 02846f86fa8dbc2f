//go:build !unix && !windows

package pipeline

import "os"

// No advisory locks on this platform: the directory is not protected.
func tryLock(*os.File) error { return nil }

func unlockFile(*os.File) error { return nil }
