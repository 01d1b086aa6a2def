# Shared by the guest tests of ktls_nicsim (nicsim, nicsim_hostile).  Source
# after tap.sh.  Skips the whole test (a failure with CI=true) on a kernel
# for which no ktls_nicsim.ko was built (kmod/Kbuild builds it only with
# CONFIG_TLS_DEVICE).
#
# nicsim_ctr NS DEV NAME: ktls_nicsim counter NAME of DEV in namespace NS
#   (ethtool -S)
# nicsim_knob DEV: the directory of DEV's knobs (read it from DEV's namespace)
if [ ! -e "$KTLS_NICSIM_MODULE" ]; then
	echo "1..0 # SKIP no ktls_nicsim.ko for $KTLS_KVER (kernel without CONFIG_TLS_DEVICE?)"
	exit 0
fi
scale=${KTLS_TIME_SCALE:-1}
pair=$KTLS_BUILD/tests/nicsim_pair

nicsim_ctr() { ip netns exec "$1" ethtool -S "$2" | awk -v k="$3:" '$1 == k { print $2 }'; }
nicsim_knob() { echo "/sys/class/net/$1/ktls_nicsim"; }
# The synchronous gcm(aes) that the TX fallback encrypts with and the
# device's RX engine need: the generic ctr, and GHASH where it is a module
# (ghash_generic up to 6.12; 7.x builds a GHASH library in); nothing
# autoloads them in the guest
nicsim_crypto() {
	modprobe ctr || return 1
	if modinfo -n ghash_generic >/dev/null 2>&1; then
		modprobe ghash_generic
	fi
}
