/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The vCPU run loop, its thread helper, and VM-wide pause/resume/stop.
 *
 * A vCPU is IDLE (outside any loop), RUNNING (inside kc_vcpu_loop(), maybe
 * in KVM_RUN) or PAUSED (inside the loop, waiting). State changes happen
 * under vm->run_lock and are broadcast on vm->run_cond. Requests (pause,
 * stop) are bits the loop polls once per exit without the lock; a kick
 * gets a vCPU out of KVM_RUN so that it polls promptly:
 *
 *   requester: requests |= bit; run->immediate_exit = 1; signal the thread
 *   vCPU:      KVM_RUN returns -EINTR (if it was inside) or at once (if it
 *              was about to enter); immediate_exit = 0; fence; poll requests
 *
 * Whatever the interleaving, the vCPU either sees the request bit or enters
 * KVM_RUN with immediate_exit set, so no request waits for the next exit.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

/* The vCPU whose loop runs on this thread (kc_vcpu_self()). */
static __thread struct kc_vcpu *self_vcpu;

struct kc_vcpu *kc_vcpu_self(void)
{
    return self_vcpu;
}

/* Called with vm->run_lock held, or on the vCPU's own thread. */
static void kick_locked(struct kc_vcpu *vcpu)
{
    __atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
    if (vcpu->loop_thread_valid)
        pthread_kill(vcpu->loop_thread, vcpu->vm->kick_signal);
}

void kc_vcpu_kick(struct kc_vcpu *vcpu)
{
    pthread_mutex_lock(&vcpu->vm->run_lock);
    kick_locked(vcpu);
    pthread_mutex_unlock(&vcpu->vm->run_lock);
}

void kc_vcpu_request_stop(struct kc_vcpu *vcpu)
{
    struct kc_vm *vm = vcpu->vm;

    pthread_mutex_lock(&vm->run_lock);
    /* A stop only concerns a loop that is running (or about to). */
    if (vcpu->state != KCI_VCPU_IDLE) {
        atomic_fetch_or(&vcpu->requests, KCI_REQ_STOP);
        kick_locked(vcpu);
        pthread_cond_broadcast(&vm->run_cond);
    }
    pthread_mutex_unlock(&vm->run_lock);
}

/* Called with run_lock held: the loop is (about to be) RUNNING. */
static void loop_enter_locked(struct kc_vcpu *vcpu)
{
    vcpu->state = KCI_VCPU_RUNNING;
    atomic_store(&vcpu->requests, vcpu->vm->paused ? KCI_REQ_PAUSE : 0);
}

static void loop_leave(struct kc_vcpu *vcpu)
{
    struct kc_vm *vm = vcpu->vm;

    pthread_mutex_lock(&vm->run_lock);
    vcpu->state = KCI_VCPU_IDLE;
    vcpu->loop_thread_valid = false;
    atomic_store(&vcpu->requests, 0);
    __atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
    pthread_cond_broadcast(&vm->run_cond);
    pthread_mutex_unlock(&vm->run_lock);
}

/* Acts on pending requests. Returns true if the loop must stop. */
static bool handle_requests(struct kc_vcpu *vcpu)
{
    struct kc_vm *vm = vcpu->vm;
    bool stop = false;

    pthread_mutex_lock(&vm->run_lock);
    for (;;) {
        unsigned req = atomic_load(&vcpu->requests);

        if (req & KCI_REQ_STOP) {
            stop = true;
            break;
        }
        if (!vm->paused) {
            atomic_fetch_and(&vcpu->requests, ~KCI_REQ_PAUSE);
            break;
        }
        if (vcpu->state != KCI_VCPU_PAUSED) {
            vcpu->state = KCI_VCPU_PAUSED;
            pthread_cond_broadcast(&vm->run_cond);
        }
        pthread_cond_wait(&vm->run_cond, &vm->run_lock);
    }
    if (vcpu->state != KCI_VCPU_RUNNING) {
        vcpu->state = KCI_VCPU_RUNNING;
        pthread_cond_broadcast(&vm->run_cond);
    }
    pthread_mutex_unlock(&vm->run_lock);
    return stop;
}

/* The loop proper; the caller has made the vCPU RUNNING. */
static int loop_body(struct kc_vcpu *vcpu, kc_exit_fn fn, void *opaque, struct kc_exit *last)
{
    struct kc_exit exit;
    struct kc_vcpu *outer = self_vcpu;
    int result;

    self_vcpu = vcpu;
    atomic_store(&vcpu->tid, (int)syscall(SYS_gettid));
    for (;;) {
        if (atomic_load(&vcpu->requests) && handle_requests(vcpu)) {
            memset(&exit, 0, sizeof(exit));
            exit.type = KC_EXIT_INTR;
            result = KC_LOOP_STOPPED;
            break;
        }
        result = kc_vcpu_run(vcpu, &exit);
        if (result < 0)
            break;
        if (kc_vcpu_dispatch(vcpu, &exit))
            continue;
        if (!fn || fn(opaque, vcpu, &exit) == KC_ACTION_STOP) {
            result = KC_LOOP_EXIT;
            break;
        }
    }
    self_vcpu = outer;
    if (last)
        *last = exit;
    return result;
}

int kc_vcpu_loop(struct kc_vcpu *vcpu, kc_exit_fn fn, void *opaque, struct kc_exit *last)
{
    struct kc_vm *vm = vcpu->vm;
    int result;

    pthread_mutex_lock(&vm->run_lock);
    if (vcpu->state != KCI_VCPU_IDLE) {
        pthread_mutex_unlock(&vm->run_lock);
        KCI_ERR(&vm->log, "vCPU %u is already running", vcpu->id);
        return -EBUSY;
    }
    loop_enter_locked(vcpu);
    vcpu->loop_thread = pthread_self();
    vcpu->loop_thread_valid = true;
    pthread_mutex_unlock(&vm->run_lock);

    result = loop_body(vcpu, fn, opaque, last);
    loop_leave(vcpu);
    return result;
}

static void *vcpu_thread_main(void *arg)
{
    struct kc_vcpu *vcpu = arg;

    /* kc_vcpu_start() holds run_lock until loop_thread is recorded, so a
     * kick can always reach this thread once it runs guest code. */
    pthread_mutex_lock(&vcpu->vm->run_lock);
    pthread_mutex_unlock(&vcpu->vm->run_lock);
    vcpu->loop_result = loop_body(vcpu, vcpu->fn, vcpu->fn_opaque, &vcpu->last_exit);
    loop_leave(vcpu);
    return NULL;
}

int kc_vcpu_start(struct kc_vcpu *vcpu, kc_exit_fn fn, void *opaque)
{
    static const int synchronous[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP };
    struct kc_vm *vm = vcpu->vm;
    sigset_t all, old;
    int ret;

    pthread_mutex_lock(&vm->run_lock);
    if (vcpu->state != KCI_VCPU_IDLE || vcpu->has_thread) {
        pthread_mutex_unlock(&vm->run_lock);
        KCI_ERR(&vm->log, "vCPU %u is already running", vcpu->id);
        return -EBUSY;
    }
    vcpu->fn = fn;
    vcpu->fn_opaque = opaque;
    loop_enter_locked(vcpu);

    /* The new thread inherits this mask: only the kick and faults. */
    sigfillset(&all);
    sigdelset(&all, vm->kick_signal);
    for (unsigned i = 0; i < KCI_ARRAY_SIZE(synchronous); i++)
        sigdelset(&all, synchronous[i]);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    ret = -pthread_create(&vcpu->thread, NULL, vcpu_thread_main, vcpu);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (ret < 0) {
        vcpu->state = KCI_VCPU_IDLE;
        pthread_mutex_unlock(&vm->run_lock);
        KCI_ERR(&vm->log, "vCPU %u: cannot create its thread: %s", vcpu->id, strerror(-ret));
        return ret;
    }
    vcpu->has_thread = true;
    vcpu->loop_thread = vcpu->thread;
    vcpu->loop_thread_valid = true;
    pthread_mutex_unlock(&vm->run_lock);
    return 0;
}

int kc_vcpu_join(struct kc_vcpu *vcpu, struct kc_exit *last)
{
    struct kc_vm *vm = vcpu->vm;
    bool has;

    pthread_mutex_lock(&vm->run_lock);
    has = vcpu->has_thread;
    pthread_mutex_unlock(&vm->run_lock);
    if (!has) {
        KCI_ERR(&vm->log, "vCPU %u has no thread to join", vcpu->id);
        return -ESRCH;
    }
    if (pthread_equal(pthread_self(), vcpu->thread)) {
        KCI_ERR(&vm->log, "vCPU %u: a vCPU thread cannot join itself", vcpu->id);
        return -EDEADLK;
    }
    pthread_join(vcpu->thread, NULL);
    pthread_mutex_lock(&vm->run_lock);
    vcpu->has_thread = false;
    pthread_mutex_unlock(&vm->run_lock);
    if (last)
        *last = vcpu->last_exit;
    return vcpu->loop_result;
}

int kc_vcpu_thread_id(const struct kc_vcpu *vcpu)
{
    int tid = atomic_load(&vcpu->tid);

    return tid > 0 ? tid : -1;
}

bool kc_vcpu_is_started(const struct kc_vcpu *vcpu)
{
    struct kc_vm *vm = vcpu->vm;
    bool has;

    pthread_mutex_lock(&vm->run_lock);
    has = vcpu->has_thread;
    pthread_mutex_unlock(&vm->run_lock);
    return has;
}

/*
 * Called with run_lock held. A VM-wide wait issued from one of the VM's
 * own vCPU threads would wait for itself: refuse it, and say so.
 */
static bool refuse_on_vcpu_thread_locked(struct kc_vm *vm, const char *what)
{
    for (unsigned i = 0; i < vm->nr_vcpus; i++) {
        struct kc_vcpu *v = vm->vcpus[i];

        if (v->loop_thread_valid && pthread_equal(v->loop_thread, pthread_self())) {
            KCI_ERR(&vm->log, "%s() called from a vCPU thread would wait for itself", what);
            return true;
        }
    }
    return false;
}

int kc_vm_pause(struct kc_vm *vm)
{
    pthread_mutex_lock(&vm->run_lock);
    if (refuse_on_vcpu_thread_locked(vm, "kc_vm_pause")) {
        pthread_mutex_unlock(&vm->run_lock);
        return -EDEADLK;
    }
    vm->paused = true;
    for (unsigned i = 0; i < vm->nr_vcpus; i++) {
        struct kc_vcpu *v = vm->vcpus[i];

        if (v->state == KCI_VCPU_RUNNING) {
            atomic_fetch_or(&v->requests, KCI_REQ_PAUSE);
            kick_locked(v);
        }
    }
    for (;;) {
        bool running = false;

        for (unsigned i = 0; i < vm->nr_vcpus; i++)
            running |= vm->vcpus[i]->state == KCI_VCPU_RUNNING;
        /* Stop waiting if someone resumed meanwhile. */
        if (!running || !vm->paused)
            break;
        pthread_cond_wait(&vm->run_cond, &vm->run_lock);
    }
    pthread_mutex_unlock(&vm->run_lock);
    return 0;
}

int kc_vm_resume(struct kc_vm *vm)
{
    pthread_mutex_lock(&vm->run_lock);
    vm->paused = false;
    pthread_cond_broadcast(&vm->run_cond);
    pthread_mutex_unlock(&vm->run_lock);
    return 0;
}

bool kc_vm_is_paused(const struct kc_vm *vm)
{
    struct kc_vm *m = (struct kc_vm *)vm;
    bool paused;

    pthread_mutex_lock(&m->run_lock);
    paused = m->paused;
    pthread_mutex_unlock(&m->run_lock);
    return paused;
}

int kc_vm_stop(struct kc_vm *vm)
{
    bool refused;

    pthread_mutex_lock(&vm->run_lock);
    refused = refuse_on_vcpu_thread_locked(vm, "kc_vm_stop");
    pthread_mutex_unlock(&vm->run_lock);
    if (refused)
        return -EDEADLK;

    for (unsigned i = 0; i < vm->nr_vcpus; i++)
        kc_vcpu_request_stop(vm->vcpus[i]);
    for (unsigned i = 0; i < vm->nr_vcpus; i++)
        if (kc_vcpu_is_started(vm->vcpus[i]))
            kc_vcpu_join(vm->vcpus[i], NULL);

    /* Loops run by callers on their own threads: wait until they return. */
    pthread_mutex_lock(&vm->run_lock);
    for (;;) {
        bool busy = false;

        for (unsigned i = 0; i < vm->nr_vcpus; i++)
            busy |= vm->vcpus[i]->state != KCI_VCPU_IDLE;
        if (!busy)
            break;
        pthread_cond_wait(&vm->run_cond, &vm->run_lock);
    }
    pthread_mutex_unlock(&vm->run_lock);
    return 0;
}
