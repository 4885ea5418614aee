#!/usr/bin/env bash
# Builds a relocatable release `convlens` and gathers it, with the shared libraries a bare x86-64 Linux machine may
# lack, into one folder that runs on a machine with only a GPU driver (no Swift, no libpng/libjpeg/ocl-icd packages).
#
# Usage: Tools/package.sh [OUT_DIR]
#   OUT_DIR defaults to dist/convlens under the repository root; a relative OUT_DIR given on the command line is
#   taken relative to the current directory, like any other path argument.
#
# Layout of OUT_DIR:
#   convlens            launcher (bash): sets LD_LIBRARY_PATH, registers unregistered OpenCL drivers, execs
#   bin/convlens.bin    the real binary (Swift stdlib and Foundation linked statically, debug info stripped)
#   lib/                libpng, libjpeg, zlib, the ocl-icd OpenCL loader (whatever `ldd` lists outside glibc)
#   lib/compat/         libstdc++ and libgcc_s, used only where the machine's libstdc++ is missing or older
#   README.txt          what is inside and how to run it
#
# Environment:
#   CONVLENS_BUILD_DIR  SwiftPM scratch folder (default .build-package in the repo root). Kept apart from .build so a
#                       static-stdlib build neither invalidates nor waits on the usual release build.
#   CONVLENS_KEEP_DEBUG=1  keep DWARF debug info in the binary (about 25 MB more).
set -euo pipefail

die() { echo "package.sh: error: $*" >&2; exit 1; }
note() { echo "package.sh: $*" >&2; }

# Locate the repository from this script's own path so the script works from any current directory.
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd) || die "cannot locate the script's folder"
repo_root=$(cd "$script_dir/.." && pwd)
[[ -f $repo_root/Package.swift ]] || die "no Package.swift in $repo_root (is Tools/package.sh inside the repository?)"

if [[ $# -gt 1 ]]; then die "usage: Tools/package.sh [OUT_DIR]"; fi
out_dir=${1:-$repo_root/dist/convlens}
[[ -n $out_dir ]] || die "OUT_DIR is empty"
# Absolute path: the launcher and the checks below must not depend on where the script was started.
mkdir -p "$out_dir" || die "cannot create $out_dir"
out_dir=$(cd "$out_dir" && pwd)

# Never wipe a folder that is not a previous package (e.g. a mistyped OUT_DIR pointing at $HOME or the repo).
if [[ -n $(ls -A "$out_dir") && ! -f $out_dir/bin/convlens.bin ]]; then
    die "$out_dir is not empty and is not a previous convlens package; choose an empty or new folder"
fi

# Tools this script needs; ldd is what tells us which shared libraries the binary loads.
if ! command -v swift >/dev/null 2>&1; then export PATH="/opt/swift/usr/bin:$PATH"; fi
command -v swift >/dev/null 2>&1 || die "swift not found on PATH or in /opt/swift/usr/bin"
command -v ldd >/dev/null 2>&1 || die "ldd not found (it comes with glibc's libc-bin package)"

# --- Build ---------------------------------------------------------------------------------------------------------
scratch=${CONVLENS_BUILD_DIR:-$repo_root/.build-package}
build=(swift build --package-path "$repo_root" --scratch-path "$scratch" -c release --static-swift-stdlib
    --product convlens)
note "building: ${build[*]}"
"${build[@]}" || die "swift build failed (see the compiler output above)"
bin_dir=$("${build[@]}" --show-bin-path) || die "swift build --show-bin-path failed"
binary=$bin_dir/convlens
[[ -x $binary ]] || die "build reported success but $binary is missing"

# --- Fill OUT_DIR ---------------------------------------------------------------------------------------------------
# Start from an empty folder so libraries from an older package do not linger.
rm -rf "${out_dir:?}/bin" "${out_dir:?}/lib" "${out_dir:?}/vendors" "$out_dir/convlens" "$out_dir/README.txt"
mkdir -p "$out_dir/bin" "$out_dir/lib/compat"
cp "$binary" "$out_dir/bin/convlens.bin"
# Debug info is about a quarter of the binary; the symbol table stays, so crash backtraces still have names.
if [[ ${CONVLENS_KEEP_DEBUG:-0} != 1 ]] && command -v strip >/dev/null 2>&1; then
    strip --strip-debug "$out_dir/bin/convlens.bin" || die "strip failed on $out_dir/bin/convlens.bin"
fi

# Shared libraries: everything `ldd` resolves except glibc itself (libc, libm, ld-linux, ...), which must come from
# the target machine because it is tied to its kernel interface and dynamic loader. ldd lists the whole closure, so
# the libraries' own dependencies (zlib for libpng) come along.
ldd_out=$(ldd "$binary") || die "ldd failed on $binary"
if grep -q 'not found' <<<"$ldd_out"; then
    die "the binary needs libraries ldd cannot find here: $(grep 'not found' <<<"$ldd_out" | awk '{print $1}' | xargs)"
fi
if grep -q '/opt/swift\|libswiftCore\|libFoundation' <<<"$ldd_out"; then
    die "the binary still loads the Swift runtime dynamically; --static-swift-stdlib did not take effect"
fi
bundled=() main_libs=() compat_libs=()
while read -r name arrow path _; do
    [[ $arrow == "=>" && $path == /* ]] || continue   # skips the vdso and the loader line
    case $name in
        libc.so.* | libm.so.* | libmvec.so.* | ld-linux* | libpthread.so.* | libdl.so.* | librt.so.* | libutil.so.* | \
            libresolv.so.* | libanl.so.* | libnss_*) continue ;;
        # A vendor driver loaded into the same process (AMD ROCm, PoCL) may need a newer libstdc++ than ours and
        # only one copy can be loaded, so the launcher uses these only where the machine's copy is missing or older.
        libstdc++.so.* | libgcc_s.so.*) dest=$out_dir/lib/compat compat_libs+=("$name") ;;
        *) dest=$out_dir/lib main_libs+=("$name") ;;
    esac
    cp -L "$path" "$dest/$name" || die "cannot copy $path"   # -L: the real file under its soname, not a symlink
    bundled+=("$name")
done <<<"$ldd_out"

# The launcher compares this version (libstdc++.so.6.0.N) with the machine's to pick the newer libstdc++.
cxx=$(grep -o 'libstdc++\.so\.6 => [^ ]*' <<<"$ldd_out" | awk '{print $3}' || true)
if [[ -n $cxx ]]; then
    basename "$(readlink -f "$cxx")" | sed 's/^libstdc++\.so\.//' >"$out_dir/lib/compat/libstdc++.version"
fi

# --- Launcher -------------------------------------------------------------------------------------------------------
cat >"$out_dir/convlens" <<'LAUNCHER'
#!/usr/bin/env bash
# convlens launcher: runs bin/convlens.bin with the libraries bundled beside it. See README.txt.
set -euo pipefail

# Our folder, following a symlink to this script (e.g. from ~/bin) back to the package.
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
say() { if [[ -n ${CONVLENS_LAUNCHER_VERBOSE:-} ]]; then echo "convlens launcher: $*" >&2; fi; }

# Prints the full path of the first 64-bit copy of library $1 in the usual driver folders or the linker cache.
find_lib() {
    local d f
    for d in /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib /usr/local/nvidia/lib64 /usr/local/nvidia/lib \
        /usr/lib/x86_64-linux-gnu/nvidia/current /lib/x86_64-linux-gnu /lib64 /opt/rocm/lib /opt/rocm/opencl/lib; do
        f=$d/$1
        # Byte 5 of an ELF file is its class; 02 is 64-bit (/usr/local/nvidia/lib and /usr/lib may hold 32-bit ones).
        if [[ -f $f && $(od -An -tx1 -j4 -N1 "$f" 2>/dev/null) == " 02" ]]; then echo "$f"; return 0; fi
    done
    # awk reads to the end: quitting early would kill ldconfig with SIGPIPE, a failure under pipefail.
    { ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null; } |
        awk -v n="$1" '!found && $1 == n && /x86-64/ { print $NF; found = 1 } END { exit !found }'
}

# 1. Libraries: the bundled ones (libpng, libjpeg, zlib, the ocl-icd loader) come first, since a bare machine lacks
#    them. libstdc++/libgcc_s only where the machine's libstdc++ is missing or older than ours: a vendor driver we
#    load (ROCm, PoCL) may need the machine's newer one, and a process can hold only one.
libs=$here/lib
ours=$(cat "$here/lib/compat/libstdc++.version" 2>/dev/null || echo 0)
theirs=$(basename "$(readlink -f "$(find_lib libstdc++.so.6 || echo none)")" | sed -n 's/^libstdc++\.so\.//p')
if [[ -z $theirs || $(printf '%s\n%s\n' "$theirs" "$ours" | sort -V | tail -n1) != "$theirs" ]]; then
    libs=$libs:$here/lib/compat
fi
export LD_LIBRARY_PATH=$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
say "LD_LIBRARY_PATH=$LD_LIBRARY_PATH (libstdc++ here: ${theirs:-none}, bundled: $ours)"

# 2. OpenCL drivers: the ocl-icd loader finds drivers through .icd files in /etc/OpenCL/vendors. GPU containers (the
#    NVIDIA container toolkit, for one) often mount the driver library without its .icd file, sometimes next to a
#    PoCL one, so the GPU would stay invisible. When a GPU driver library is present but not named there (or nothing
#    is registered at all, where PoCL is the fallback), we build a vendors folder of our own: the system's .icd files
#    plus ours, since OCL_ICD_VENDORS replaces the system folder rather than adding to it. An OCL_ICD_VENDORS set by
#    the user wins. CONVLENS_SYSTEM_VENDORS_DIR exists only to test this on a machine that has the folder.
system_vendors=${CONVLENS_SYSTEM_VENDORS_DIR:-/etc/OpenCL/vendors}
if [[ -z ${OCL_ICD_VENDORS:-} ]]; then
    registered=$(cat "$system_vendors"/*.icd 2>/dev/null || true)
    add=()
    for name in libnvidia-opencl.so.1 libamdocl64.so libigdrcl.so; do   # GPU drivers: all that are present
        if ! grep -qF "$name" <<<"$registered" && f=$(find_lib "$name"); then add+=("$f"); fi
    done
    if [[ -z $registered && ${#add[@]} -eq 0 ]] && f=$(find_lib libpocl.so.2); then add+=("$f"); fi   # CPU fallback
    if [[ ${#add[@]} -gt 0 ]]; then
        # Our own folder if the package is writable; else a private one under TMPDIR, checked to be ours so another
        # user cannot plant an .icd (a library we would load) there.
        vendors=$here/vendors
        if ! mkdir -p "$vendors" 2>/dev/null || [[ ! -w $vendors ]]; then
            vendors=${TMPDIR:-/tmp}/convlens-vendors-$(id -u)
            mkdir -m 700 "$vendors" 2>/dev/null || true
            if [[ -L $vendors || ! -O $vendors ]] || ! chmod 700 "$vendors"; then
                vendors=$(mktemp -d "${TMPDIR:-/tmp}/convlens-vendors.XXXXXX")
            fi
        fi
        # Write-then-rename, and delete only files we no longer want, so a concurrent run never sees a gap.
        want=()
        for f in "$system_vendors"/*.icd "${add[@]}"; do
            [[ -f $f ]] || continue
            if [[ $f == *.icd ]]; then n=$(basename "$f"); cat "$f" >"$vendors/.$$.tmp"
            else n=$(basename "$f").icd; echo "$f" >"$vendors/.$$.tmp"; fi
            mv -f "$vendors/.$$.tmp" "$vendors/$n"
            want+=("$n")
        done
        for f in "$vendors"/*.icd; do   # stale: registered on another machine or by an earlier run
            if [[ -f $f && " ${want[*]} " != *" $(basename "$f") "* ]]; then rm -f "$f"; fi
        done
        export OCL_ICD_VENDORS=$vendors
        say "registered ${add[*]} in $vendors (with the .icd files of $system_vendors)"
    elif [[ -z $registered ]]; then
        say "no .icd in $system_vendors and no OpenCL driver library found; set OCL_ICD_VENDORS"
    fi
fi

exec "$here/bin/convlens.bin" "$@"
LAUNCHER
chmod 755 "$out_dir/convlens"

# --- README ---------------------------------------------------------------------------------------------------------
# Oldest glibc the package runs on: the highest GLIBC_x.y version the files ask for (the version strings are plain
# text in the files, so grep finds them without binutils). lib/compat is counted apart since it is loaded only
# where the machine's libstdc++ is older than ours.
max_glibc() { grep -aoh 'GLIBC_2\.[0-9.]*[0-9]' "$@" | sort -uV | tail -n1 | sed 's/GLIBC_//'; }
glibc=$(max_glibc "$out_dir/bin/convlens.bin" "$out_dir"/lib/*.so*)
glibc_compat=$(max_glibc "$out_dir"/lib/compat/*.so*)
cxx_version=$(cat "$out_dir/lib/compat/libstdc++.version" 2>/dev/null || echo unknown)
commit=$(git -C "$repo_root" describe --always --dirty 2>/dev/null || echo unknown)
cat >"$out_dir/README.txt" <<README
ConvLens (convlens), relocatable build for x86-64 Linux
Built $(date -u +%Y-%m-%d) from commit $commit with $(swift --version 2>/dev/null | head -n1)

Needs x86-64 Linux with glibc $glibc or newer (\`ldd --version\`; Ubuntu 22.04 has 2.35, Debian 12 2.36, RHEL 9 only
2.34) and an OpenCL driver (NVIDIA, AMD, Intel or PoCL). Where the machine's libstdc++ is older than
libstdc++.so.$cxx_version or missing, the bundled one is used and then glibc $glibc_compat is needed.
Nothing else: no Swift, no libpng/libjpeg/ocl-icd packages. Copy the whole folder anywhere.

Run:
  ./convlens devices              list OpenCL platforms and devices
  ./convlens verify               check every OpenCL op against the reference implementation
  ./convlens --help               all commands

Inside:
  convlens           launcher: puts lib/ on LD_LIBRARY_PATH, registers OpenCL drivers that the machine has but
                     /etc/OpenCL/vendors does not name (see below), then runs bin/convlens.bin
  bin/convlens.bin   the program (Swift runtime and Foundation linked in); run it through the launcher
  lib/               ${main_libs[*]}
  lib/compat/        ${compat_libs[*]}
                     (used only if the machine's libstdc++ is missing or older)
  vendors/           created by the launcher when it registers a driver itself

OpenCL drivers: GPU containers often have the driver library but no .icd file for it in /etc/OpenCL/vendors. The
launcher looks for libnvidia-opencl.so.1, libamdocl64.so and libigdrcl.so in the usual driver folders and the linker
cache; any that /etc/OpenCL/vendors does not name are registered, with the system's .icd files, in a vendors folder
of its own (vendors/ here, or a private one under \$TMPDIR if this folder is read-only). With nothing registered and
no GPU driver, it falls back to PoCL (libpocl.so.2). To choose yourself, set OCL_ICD_VENDORS to a folder of .icd
files or to one .icd file (each holds a driver library's path); the launcher then leaves it alone.
CONVLENS_LAUNCHER_VERBOSE=1 prints what the launcher chose.

Caches: compiled OpenCL programs go to \$XDG_CACHE_HOME/convlens or ~/.cache/convlens.
README

# --- Check ----------------------------------------------------------------------------------------------------------
# With only our lib folders on the path, every library must resolve either into the package or to glibc/system files,
# never to the Swift toolchain.
check=$(env -i LD_LIBRARY_PATH="$out_dir/lib:$out_dir/lib/compat" ldd "$out_dir/bin/convlens.bin") ||
    die "ldd failed on the packaged binary"
if grep -q 'not found\|/opt/swift' <<<"$check"; then die "packaged binary does not resolve cleanly:"$'\n'"$check"; fi
for name in "${bundled[@]}"; do
    grep -q "^[[:space:]]*$name => $out_dir/" <<<"$check" || die "$name does not resolve into $out_dir"
done

note "packaged $(du -sh "$out_dir" | cut -f1) in $out_dir (bundled: ${bundled[*]})"
note "run: $out_dir/convlens devices"
