/* A stand-in <sys/event.h> for type-checking gomp's kqueue backend on Linux
 * (tests/meson.build: kqueue_check). It declares the documented kqueue API
 * (FreeBSD's kqueue(2) manual page); nothing here is implemented or linked. */
#pragma once

#include <stdint.h>
#include <time.h>

struct kevent {
    uintptr_t ident;
    short filter;
    unsigned short flags;
    unsigned int fflags;
    intptr_t data;
    void* udata;
};

#define EV_SET(kevp, a, b, c, d, e, f) \
    do {                               \
        struct kevent* ev_ = (kevp);   \
        ev_->ident = (a);              \
        ev_->filter = (b);             \
        ev_->flags = (c);              \
        ev_->fflags = (d);             \
        ev_->data = (e);               \
        ev_->udata = (f);              \
    } while (0)

#define EVFILT_READ (-1)
#define EVFILT_WRITE (-2)
#define EVFILT_USER (-11)

#define EV_ADD 0x0001
#define EV_DELETE 0x0002
#define EV_ENABLE 0x0004
#define EV_DISABLE 0x0008
#define EV_CLEAR 0x0020
#define EV_ERROR 0x4000
#define EV_EOF 0x8000

#define NOTE_TRIGGER 0x01000000

#ifdef __cplusplus
extern "C" {
#endif
int kqueue(void);
int kevent(int kq, const struct kevent* changelist, int nchanges, struct kevent* eventlist, int nevents,
           const struct timespec* timeout);
#ifdef __cplusplus
}
#endif
