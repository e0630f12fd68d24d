#!/bin/sh
# Refresh the message catalogs from the sources:
#   1. xgettext: the files in po/POTFILES -> po/irnet.pot (the template);
#   2. msginit:  po/vi.po, if it does not exist yet;
#   3. msgmerge: every po/<lang>.po against the new template.
# New or changed msgids come out untranslated or "fuzzy"; translate them,
# remove the fuzzy flag, and rebuild (CMake compiles po/*.po with msgfmt --check).
# Needs GNU gettext (xgettext, msginit, msgmerge, msgfmt).
set -eu
cd "$(dirname "$0")/.."

DOMAIN=irnet
POT=po/$DOMAIN.pot
VERSION=$(sed -n 's/^project(irnet VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)

for tool in xgettext msginit msgmerge msgfmt; do
  command -v "$tool" >/dev/null 2>&1 || { echo "update-po: $tool not found (install gettext)" >&2; exit 1; }
done

# Warn about sources that mark strings but are not listed in po/POTFILES.
listed=$(grep -v '^[[:space:]]*#' po/POTFILES | sed '/^[[:space:]]*$/d')
for f in $(grep -l -E '(^|[^A-Za-z0-9_])N?_\("' common/*.c broker/*.c node/*.c keys/*.c 2>/dev/null); do
  printf '%s\n' "$listed" | grep -qx "$f" || echo "update-po: warning: $f has marked strings but is not in po/POTFILES" >&2
done
for f in $listed; do
  [ -f "$f" ] || { echo "update-po: po/POTFILES names a missing file: $f" >&2; exit 1; }
done

# xgettext flags strings passed to printf-like functions (or containing
# conversions) with "c-format"; msgfmt --check then makes every
# translation keep the same conversions in the same order. The --flag
# options name irnet's own printf-like functions and macros (IRN_PRINTF),
# so that their format strings are flagged even without a conversion.
tmp=$(mktemp "$POT.XXXXXX")
trap 'rm -f "$tmp"' EXIT
xgettext --keyword=_ --keyword=N_ --from-code=UTF-8 --language=C --add-comments \
  --flag=irn_log:2:c-format --flag=irn_security_event:3:c-format \
  --flag=log_error:1:c-format --flag=log_warn:1:c-format \
  --flag=log_info:1:c-format --flag=log_debug:1:c-format \
  --flag=irn_snprintf:3:c-format --flag=fail:1:c-format \
  --package-name="$DOMAIN" --package-version="${VERSION:-0}" \
  --files-from=po/POTFILES --output="$tmp"
sed -i 's/^"Content-Type: text\/plain; charset=CHARSET\\n"$/"Content-Type: text\/plain; charset=UTF-8\\n"/' "$tmp"

# Keep the old template when only its creation date would change.
strip_date() { grep -v '^"POT-Creation-Date:' "$1"; }
if [ -f "$POT" ] && [ "$(strip_date "$POT")" = "$(strip_date "$tmp")" ]; then
  echo "update-po: $POT unchanged"
else
  mv "$tmp" "$POT"
  chmod 644 "$POT"
  echo "update-po: wrote $POT ($(grep -c '^msgid ' "$POT") entries, header included)"
fi

if [ ! -f po/vi.po ]; then
  msginit --no-translator --locale=vi_VN.UTF-8 --input="$POT" --output-file=po/vi.po
fi

status=0
for po in po/*.po; do
  msgmerge --quiet --update --backup=none --previous "$po" "$POT"
  if stats=$(msgfmt --check --statistics -o /dev/null "$po" 2>&1); then
    echo "update-po: $po: $stats"
  else
    echo "update-po: $po does not pass msgfmt --check:" >&2
    echo "$stats" >&2
    status=1
  fi
done
exit $status
