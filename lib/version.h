/* The release of gw that gwc and gwd report with --version, and that the
 * Debian package (`make deb`) takes as its version. */
#ifndef GW_VERSION_H
#define GW_VERSION_H

#define GW_VERSION "0.1.0"

#endif
