#!/bin/sh
# The UAPI header stands alone: it compiles by itself as C89, C11 and C++,
# with nothing but the kernel's own UAPI conventions.
. "$KTLS_SRC/tests/lib/tap.sh"
hdr=$KTLS_SRC/include/uapi/linux/ktls_offload.h
plan 3
ok "compiles alone as C89 (-pedantic)" \
	sh -c "echo '#include \"$hdr\"' | ${CC:-cc} -std=c89 -pedantic -Werror -Wall -fsyntax-only -x c -"
ok "compiles alone as C11" \
	sh -c "echo '#include \"$hdr\"' | ${CC:-cc} -std=c11 -Werror -Wall -Wextra -fsyntax-only -x c -"
ok "compiles alone as C++" \
	sh -c "echo '#include \"$hdr\"' | ${CXX:-c++} -Werror -Wall -fsyntax-only -x c++ -"
