// Package configfile edits JSON config files that people also edit by hand
// (AI client configs: JSON with comments and trailing commas), changing only
// what it is asked to change.
//
//	res, err := configfile.Apply(ctx, path, []configfile.Edit{
//		{Path: []string{"mcpServers", "scispot"}, Value: entryJSON}, // set
//		{Path: []string{"mcpServers", "old"}},                      // remove
//	}, configfile.Options{CreateDirs: true})
//
// The rules, all tested:
//
//   - Comments, trailing commas, key order, indentation (spaces or tabs,
//     any width), line endings, a UTF-8 byte order mark and every key not
//     named by an edit survive byte for byte. A new member goes last in its
//     object, indented like its neighbours (one-line objects stay on one
//     line); a new file is a 2-space-indented document. Comments around a
//     removed member stay; comments inside it go with it.
//   - Setting a value the file already holds (same data, any layout) writes
//     nothing, takes no lock and makes no backup.
//   - A file that does not parse is never touched: the error is a
//     *ParseError with the file, line and column (characters, 1-based) and a
//     reason that quotes at most one character of the file, because config
//     files hold secrets.
//   - An empty file (0 bytes or only whitespace) reads as {}: a client that
//     created an empty config means "no settings". A file of only comments
//     reads as {} too, with the comments kept above it.
//   - A folder, a special file, a read-only file or a read-only folder
//     where the config should be is refused (ErrNotRegular, ErrReadOnly)
//     before anything is written, in a dry run too.
//   - A symbolic link is followed and its target is edited in the target's
//     folder, so the link stays a link (dotfile managers rely on that); a
//     link to nothing is refused (ErrBrokenLink).
//   - Writers lock "<file>.scispot-lock" (gofrs/flock) around the whole
//     read-modify-write, write a temp file in the same folder, sync it, give
//     it the old file's mode (0600 for a new file) and owner, rename it over
//     the file and sync the folder. The file is read back afterwards and
//     must hold the edits (ErrVerify).
//   - Before each change the old content is kept as
//     "<file>.scispot-backup-<UTC time>"; the newest 3 (Options.KeepBackups)
//     are kept. Options.NoBackup skips it when the old content must not be
//     kept (it holds a secret the change removes).
//   - Options.DryRun returns a unified diff and writes nothing at all.
package configfile
