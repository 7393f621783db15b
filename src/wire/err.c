/* Messages for the wire/ parse errors. */
#include "wire/wire.h"

const char *ust_wire_strerror(int err)
{
    switch (err) {
    case UST_WIRE_TRUNCATED: return "truncated header";
    case UST_WIRE_BAD_VERSION: return "bad IP version";
    case UST_WIRE_BAD_LENGTH: return "inconsistent length field";
    case UST_WIRE_BAD_CSUM: return "bad checksum";
    case UST_WIRE_BAD_OPTION: return "malformed option";
    case UST_WIRE_UNSUPPORTED: return "unsupported format";
    default: return err >= 0 ? "no error" : "unknown wire error";
    }
}
