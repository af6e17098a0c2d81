#!/usr/bin/env bash
# Boot an installer ISO in QEMU, through Xen as XCP-ng boots, and check what it printed.
#
# Usage: scripts/boot-check.sh [options] ISO EXPECTED_MARKER [MODE...]
#   MODE: bios-cd bios-hd uefi-cd uefi-hd uefi-esp (default: all five; "a,b" works too)
#     uefi-hd   the ISO as a disk: OVMF boots it through El Torito (as it prefers)
#     uefi-esp  the ISO as a disk with El Torito hidden: the hybrid GPT/EFI partition
#               (efiboot.img and the grub.cfg inside it) is what boots
# Options:
#   --expect-xen-cmdline WORD  require WORD on Xen's command line (repeatable)
#   --expect-cmdline WORD   require WORD on dom0's kernel command line (repeatable)
#   --timeout SECONDS       per mode (default 180, env XISO_BOOT_TIMEOUT)
#   --jobs N                modes run at once (default 2, env XISO_BOOT_JOBS)
#   --accel tcg|kvm|auto    default env XISO_ACCEL or "auto" (KVM only if a probe
#                           shows it can run OVMF, else TCG)
#   --keep                  keep the log directory even when everything passes
#
# Pass = Xen's banner "(XEN) Xen version", Xen's "(XEN) Command line:" with every
# --expect-xen-cmdline word, and the installer's lines "XISO-MARKER <expected>" and
# "XISO-CMDLINE" (dom0's /proc/cmdline, with every --expect-cmdline word), read from
# both serial ports (Xen's console may be com1 or com2: the report says which).
# QEMU's exit code says nothing: a crashed dom0 makes Xen reboot, which -no-reboot turns into exit 0.
# The input ISO is never written: each mode boots a private copy. Prints each
# mode's boot time. Exit 0 only if every requested mode passes.
set -euo pipefail

usage() { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; }

TIMEOUT=${XISO_BOOT_TIMEOUT:-180}
JOBS=${XISO_BOOT_JOBS:-2}
ACCEL=${XISO_ACCEL:-auto}
KEEP=0
WORDS=()
XEN_WORDS=()
POS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --expect-cmdline) WORDS+=("$2"); shift ;;
        --expect-cmdline=*) WORDS+=("${1#*=}") ;;
        --expect-xen-cmdline) XEN_WORDS+=("$2"); shift ;;
        --expect-xen-cmdline=*) XEN_WORDS+=("${1#*=}") ;;
        --timeout) TIMEOUT=$2; shift ;;
        --jobs) JOBS=$2; shift ;;
        --accel) ACCEL=$2; shift ;;
        --keep) KEEP=1 ;;
        -h|--help) usage; exit 0 ;;
        --) shift; POS+=("$@"); break ;;
        -*) echo "boot-check: unknown option $1" >&2; usage >&2; exit 2 ;;
        *) POS+=("$1") ;;
    esac
    shift
done
[ ${#POS[@]} -ge 2 ] || { usage >&2; exit 2; }
ISO=${POS[0]}
MARKER=${POS[1]}
MODES=()
for m in "${POS[@]:2}"; do
    IFS=', ' read -r -a parts <<< "$m"
    MODES+=("${parts[@]}")
done
[ ${#MODES[@]} -gt 0 ] || MODES=(bios-cd bios-hd uefi-cd uefi-hd uefi-esp)
for m in "${MODES[@]}"; do
    case "$m" in bios-cd|bios-hd|uefi-cd|uefi-hd|uefi-esp) ;;
        *) echo "boot-check: unknown mode '$m'" >&2; exit 2 ;; esac
done
[ -f "$ISO" ] || { echo "boot-check: no such ISO: $ISO" >&2; exit 2; }
command -v qemu-system-x86_64 >/dev/null || { echo "boot-check: qemu-system-x86_64 missing (scripts/install-deps.sh)" >&2; exit 2; }

OVMF_CODE= OVMF_VARS=
for d in /usr/share/OVMF /usr/share/ovmf /usr/share/qemu; do
    if [ -z "$OVMF_CODE" ] && [ -f "$d/OVMF_CODE_4M.fd" ] && [ -f "$d/OVMF_VARS_4M.fd" ]; then
        OVMF_CODE=$d/OVMF_CODE_4M.fd OVMF_VARS=$d/OVMF_VARS_4M.fd
    fi
done
for d in /usr/share/OVMF /usr/share/ovmf; do
    if [ -z "$OVMF_CODE" ] && [ -f "$d/OVMF_CODE.fd" ] && [ -f "$d/OVMF_VARS.fd" ]; then
        OVMF_CODE=$d/OVMF_CODE.fd OVMF_VARS=$d/OVMF_VARS.fd
    fi
done
for m in "${MODES[@]}"; do
    if [[ $m == uefi-* ]] && [ -z "$OVMF_CODE" ]; then
        echo "boot-check: OVMF not found (package ovmf)" >&2; exit 2
    fi
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/xiso-boot.XXXXXX")
cleanup() {
    local rc=$?
    # never leave a QEMU behind
    jobs -p | xargs -r kill 2>/dev/null || true
    rm -f "$TMP"/*.iso "$TMP"/*.vars
    if [ $rc -eq 0 ] && [ "$KEEP" = 0 ]; then rm -rf "$TMP"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ acceleration
probe_kvm() {
    [ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
    [ -n "$OVMF_CODE" ] || return 1
    local err=$TMP/kvm-probe.err
    # OVMF trips "KVM internal error" within a second on hosts where nested KVM
    # cannot emulate what the firmware does; a healthy KVM is still running at 3 s.
    timeout 3 qemu-system-x86_64 -accel kvm -machine pc -m 128 -display none -nodefaults \
        -drive "if=pflash,format=raw,readonly=on,file=$OVMF_CODE" -no-reboot \
        >/dev/null 2>"$err" && return 1
    [ $? -eq 124 ] || return 1
    ! grep -q -i 'internal error\|emulation failure\|failed to initialize' "$err"
}
case "$ACCEL" in
    tcg|kvm) ;;
    auto) if probe_kvm; then ACCEL=kvm; else ACCEL=tcg; fi ;;
    *) echo "boot-check: bad --accel $ACCEL" >&2; exit 2 ;;
esac

# ------------------------------------------------------------------ one mode
# Does the command line $1 (words separated by spaces) hold the word $2?
has_word() {
    printf '%s\n' "$1" | tr ' ' '\n' | grep -q -x -F -- "$2"
}

run_mode() {
    local mode=$1
    local dir=$TMP/$mode
    mkdir -p "$dir"
    local img=$TMP/$mode.iso serial=$dir/serial.log serial2=$dir/serial2.log debug=$dir/debugcon.log
    cp --reflink=auto "$ISO" "$img"
    chmod u+w "$img"
    if [ "$mode" = uefi-esp ]; then
        # EDK2 prefers El Torito even on disks (that is uefi-hd): hide it so the
        # hybrid GPT/EFI partition (and the grub.cfg inside efiboot.img) is what boots.
        local off=$((17 * 2048 + 7))
        if [ "$(dd if="$img" bs=1 skip=$off count=9 status=none)" = "EL TORITO" ]; then
            printf 'X' | dd of="$img" bs=1 seek=$off conv=notrunc status=none
            echo "renamed El Torito boot record (EL TORITO -> XL TORITO)" > "$dir/note"
        fi
    fi
    # -cpu max without SMAP: under TCG, SMAP makes a PV dom0 fault on its first
    # instructions. Xen needs more memory than dom0 alone. Two serial ports: Xen's
    # console is on com1 or, after `--serial com2`, on com2.
    local args=(-machine pc -accel "$ACCEL" -cpu max,-smap -m 1024 -smp 1 -no-reboot
                -display none -monitor none -nodefaults -vga std
                -serial "file:$serial" -serial "file:$serial2"
                -chardev "file,id=dbgcon,path=$debug"
                -device isa-debugcon,iobase=0x402,chardev=dbgcon)
    case "$mode" in
        *-cd) args+=(-drive "file=$img,format=raw,if=ide,media=cdrom,readonly=on" -boot d) ;;
        *) args+=(-drive "file=$img,format=raw,if=ide,media=disk,snapshot=on" -boot c) ;;
    esac
    if [[ $mode == uefi-* ]]; then
        cp "$OVMF_VARS" "$TMP/$mode.vars"
        args+=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE"
               -drive "if=pflash,format=raw,unit=1,file=$TMP/$mode.vars")
    fi
    printf '%q ' qemu-system-x86_64 "${args[@]}" > "$dir/cmd"
    local start=$SECONDS rc=0
    timeout "$TIMEOUT" qemu-system-x86_64 "${args[@]}" > "$dir/qemu.out" 2>&1 || rc=$?
    local secs=$((SECONDS - start))
    rm -f "$img" "$TMP/$mode.vars"
    # both ports, carriage returns and GRUB's terminal escapes removed
    cat "$serial" "$serial2" 2>/dev/null | tr -d '\r' \
        | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' > "$dir/both.log" || true
    local log=$dir/both.log
    local xen_cmdline cmdline grubcfg
    # head -1: one line may hold a match twice (GRUB echoes to serial and console)
    xen_cmdline=$(grep -a -o '(XEN) Command line:.*' "$log" | head -1 | sed 's/^(XEN) Command line: *//' || true)
    cmdline=$(grep -a -o 'XISO-CMDLINE.*' "$log" | head -1 | sed 's/^XISO-CMDLINE //' || true)
    grubcfg=$(grep -a -o 'XISO-GRUBCFG [a-z]*' "$log" | head -1 | sed 's/^XISO-GRUBCFG //' || true)
    # the port Xen's console is on: com1 (first -serial) or com2
    local port=
    if grep -a -q '(XEN) Xen version' "$serial" 2>/dev/null; then
        port=com1
    elif grep -a -q '(XEN) Xen version' "$serial2" 2>/dev/null; then
        port=com2
    fi
    local result=PASS why=
    if ! grep -a -q '(XEN) Xen version' "$log"; then
        result=FAIL why="no Xen banner '(XEN) Xen version'"
    elif [ -z "$xen_cmdline" ] && ! grep -a -q '(XEN) Command line:' "$log"; then
        result=FAIL why="Xen printed no '(XEN) Command line:'"
    # whole-line match: "fixture-original" must not accept "fixture-original-2"
    elif ! grep -a -q -x -F "XISO-MARKER $MARKER" "$log"; then
        result=FAIL
        if grep -a -q 'XISO-MARKER' "$log"; then
            why="wrong marker: $(grep -a -m1 -o 'XISO-MARKER.*' "$log")"
        elif [ $rc -eq 124 ]; then
            why="timeout after ${TIMEOUT}s, no marker"
        else
            why="qemu exited $rc, no marker (dom0 crashed or never started?)"
        fi
    fi
    if [ $result = PASS ]; then
        local w
        for w in "${XEN_WORDS[@]+"${XEN_WORDS[@]}"}"; do
            has_word "$xen_cmdline" "$w" || { result=FAIL why="Xen's command line lacks '$w'"; break; }
        done
    fi
    if [ $result = PASS ]; then
        local w
        for w in "${WORDS[@]+"${WORDS[@]}"}"; do
            has_word "$cmdline" "$w" || { result=FAIL why="dom0's command line lacks '$w'"; break; }
        done
    fi
    printf '%s\n%s\n%s\n%s\n%s\n%s\n%s\n' "$result" "$secs" "$why" "$xen_cmdline" "$cmdline" \
        "$grubcfg" "$port" > "$dir/result"
}

# ------------------------------------------------------------------ run
echo "boot-check: $ISO (accel $ACCEL, timeout ${TIMEOUT}s, $JOBS at once, logs in $TMP)"
total_start=$SECONDS
running=0
for m in "${MODES[@]}"; do
    if [ "$running" -ge "$JOBS" ]; then
        wait -n || true
        running=$((running - 1))
    fi
    run_mode "$m" &
    running=$((running + 1))
done
wait || true

fail=0
times=()
for m in "${MODES[@]}"; do
    dir=$TMP/$m
    if [ ! -f "$dir/result" ]; then
        printf '%s: FAIL (no result)\n' "$m"; fail=1; continue
    fi
    { read -r result; read -r secs; read -r why; read -r xen_cmdline; read -r cmdline; read -r grubcfg;
      read -r port; } \
        < "$dir/result" || true
    times+=("$m=${secs}s")
    if [ "$result" = PASS ]; then
        printf '%s: PASS (%s s)\n' "$m" "$secs"
    else
        fail=1
        printf '%s: FAIL (%s s) %s\n' "$m" "$secs" "$why"
    fi
    printf '  xen: %s\n' "${xen_cmdline:-(none)}"
    printf '  dom0: %s\n' "${cmdline:-(none)}"
    [ -z "$grubcfg" ] || printf '  grub.cfg: %s\n' "$grubcfg"
    [ -z "$port" ] || printf '  xen console: %s\n' "$port"
    if [ "$result" != PASS ]; then
        [ ! -f "$dir/note" ] || printf '  note: %s\n' "$(cat "$dir/note")"
        printf '  command: %s\n' "$(cat "$dir/cmd")"
        for f in both.log debugcon.log qemu.out; do
            printf '  ---- last 20 lines of %s\n' "$dir/$f"
            if [ -s "$dir/$f" ]; then
                tail -n 20 "$dir/$f" | tr -d '\r' | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/^/  | /'
            else
                echo "  | (empty)"
            fi
        done
    fi
done
echo "boot-check: times ${times[*]}"
echo "boot-check: total $((SECONDS - total_start)) s, $([ $fail = 0 ] && echo "all ${#MODES[@]} passed" || echo "FAILED; logs kept in $TMP")"
exit $fail
