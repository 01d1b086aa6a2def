# TAP helpers for shell tests.  Source it, call `plan N`, then one check per
# test point; each prints "ok N - description" or "not ok N - description"
# with the command's output as diagnostics when it fails.
_tap_n=0

plan() { echo "1..$1"; }

# full_pass: true unless this run checks kernel interfaces only
# (KTLS_PASS=kernel: make check's passes on the kernels after the first,
# which leave the userspace-only parts of a test to the first; README,
# "Which test runs where").
full_pass() { [ "${KTLS_PASS:-full}" != kernel ]; }

# With KTLS_TAP_STAMPS set (the guest runner does), each check appends
# "SECONDS-SINCE-BOOT N" to that file as it ends: the time since the line
# before is what check N and the steps leading to it took.
_tap_next() { _tap_n=$((_tap_n + 1)); }
_tap_stamp() {
	if [ -n "${KTLS_TAP_STAMPS:-}" ]; then
		read -r _tap_up _tap_idle </proc/uptime
		echo "$_tap_up $_tap_n" >>"$KTLS_TAP_STAMPS"
	fi
}

# ok DESCRIPTION COMMAND [ARGS...]: passes when the command exits 0.
ok() {
	_tap_desc=$1
	shift
	_tap_next
	if _tap_out=$("$@" 2>&1); then
		echo "ok $_tap_n - $_tap_desc"
	else
		echo "not ok $_tap_n - $_tap_desc"
		printf '%s\n' "$_tap_out" | sed 's/^/#   /'
	fi
	_tap_stamp
}

# fails DESCRIPTION COMMAND [ARGS...]: passes when the command exits non-zero.
fails() {
	_tap_desc=$1
	shift
	_tap_next
	if _tap_out=$("$@" 2>&1); then
		echo "not ok $_tap_n - $_tap_desc (it succeeded)"
		printf '%s\n' "$_tap_out" | sed 's/^/#   /'
	else
		echo "ok $_tap_n - $_tap_desc"
	fi
	_tap_stamp
}

# is DESCRIPTION GOT WANT: passes when the two strings are equal.
is() {
	_tap_next
	if [ "$2" = "$3" ]; then
		echo "ok $_tap_n - $1"
	else
		echo "not ok $_tap_n - $1"
		echo "#   got:  '$2'"
		echo "#   want: '$3'"
	fi
	_tap_stamp
}

# like DESCRIPTION TEXT PATTERN: passes when TEXT matches the grep -E PATTERN.
like() {
	_tap_next
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then
		echo "ok $_tap_n - $1"
	else
		echo "not ok $_tap_n - $1"
		printf '%s\n' "$2" | sed 's/^/#   got: /'
		echo "#   want match: $3"
	fi
	_tap_stamp
}

# unlike DESCRIPTION TEXT PATTERN: passes when TEXT does not match.
unlike() {
	_tap_next
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then
		echo "not ok $_tap_n - $1"
		printf '%s\n' "$2" | grep -E -- "$3" | head -n 5 | sed 's/^/#   matched: /'
	else
		echo "ok $_tap_n - $1"
	fi
	_tap_stamp
}
