// Package bundle renders and writes what one employee receives: the inline
// OpenVPN profile, the split key and certificate files, install instructions
// for their OS in their language, and the .tar.gz and .zip of it all.
//
// Texts are Go templates. Built-in defaults are embedded; a templates folder
// overrides them by name (profile.ovpn.tmpl, readme/LANG.txt.tmpl) and adds
// its own *.tmpl files. Any other file in that folder is treated as the old
// gen.sh distribution folder treated it: copied into every bundle with the
// token change_me replaced by the user name, and X.ovpn renamed X_USER.ovpn,
// so an existing setup moves over unchanged.
//
// Writing is atomic per user: the folder is built beside the old one and
// swapped in with one rename (RENAME_EXCHANGE), so a failure at any point
// leaves the previous bundle intact. Many bundles are made durable with one
// syncfs instead of an fsync per file.
package bundle
