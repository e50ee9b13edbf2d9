#ifndef SGW_CHIREDIS_SHIM_H
#define SGW_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#endif
