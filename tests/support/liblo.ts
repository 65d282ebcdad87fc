/** Debian's liblo-tools (oscsend, oscdump): a real OSC peer that is not ours. .ci/run installs it. */
import { existsSync } from 'node:fs';

export const HAVE_LIBLO = existsSync('/usr/bin/oscsend') && existsSync('/usr/bin/oscdump');

/** Appended to the names of tests that need liblo-tools, so a skip says why. */
export const NEEDS_LIBLO = HAVE_LIBLO ? '' : ' — skipped: liblo-tools is not installed (apt-get install liblo-tools)';
