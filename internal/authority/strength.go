package authority

import "unicode/utf8"

// MinSecretChars is the fewest characters a secret a person chooses may
// have: an admin password or a new CA passphrase.
const MinSecretChars = 12

// StrongEnough is the one rule for secrets people choose (admin passwords,
// CA passphrases): at least MinSecretChars characters. Length is what
// resists guessing against the argon2id and PBKDF2 hashes; composition
// rules only make people write them down.
func StrongEnough(secret string) bool {
	return utf8.RuneCountInString(secret) >= MinSecretChars
}
