/* Minimal context switch for parked threads (x86_64 SysV).
 * struct stasis_ctx { rbx, rbp, r12, r13, r14, r15, rsp, rip } */
    .text
    .globl stasis_ctx_save
    .type stasis_ctx_save,@function
stasis_ctx_save:
    movq %rbx, 0(%rdi)
    movq %rbp, 8(%rdi)
    movq %r12, 16(%rdi)
    movq %r13, 24(%rdi)
    movq %r14, 32(%rdi)
    movq %r15, 40(%rdi)
    leaq 8(%rsp), %rax
    movq %rax, 48(%rdi)
    movq (%rsp), %rax
    movq %rax, 56(%rdi)
    xorl %eax, %eax
    ret
    .size stasis_ctx_save,.-stasis_ctx_save

    .globl stasis_ctx_restore
    .type stasis_ctx_restore,@function
stasis_ctx_restore:
    movq 0(%rdi), %rbx
    movq 8(%rdi), %rbp
    movq 16(%rdi), %r12
    movq 24(%rdi), %r13
    movq 32(%rdi), %r14
    movq 40(%rdi), %r15
    movq 48(%rdi), %rsp
    movl %esi, %eax
    jmpq *56(%rdi)
    .size stasis_ctx_restore,.-stasis_ctx_restore

/* long stasis_clone3_thread(struct clone_args *a, size_t size, struct stasis_thread *t)
 * parent: returns the new tid or -errno; child: calls stasis_thread_child(t) on the
 * stack given in a->stack (never returns). */
    .globl stasis_clone3_thread
    .type stasis_clone3_thread,@function
stasis_clone3_thread:
    pushq %r12
    movq %rdx, %r12
    movl $435, %eax
    syscall
    testq %rax, %rax
    jnz 1f
    xorl %ebp, %ebp
    movq %r12, %rdi
    andq $-16, %rsp
    call stasis_thread_child
    ud2
1:  popq %r12
    ret
    .size stasis_clone3_thread,.-stasis_clone3_thread
    .section .note.GNU-stack,"",@progbits
