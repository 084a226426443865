namespace KernelMm.Spec.Contract;

/// <summary>
/// Copies between kernel memory and a process's user memory, as a system call running on behalf of
/// the process does them (include/linux/uaccess.h; Capability.UserCopy). Kernel addresses are
/// those of <see cref="IKernelMemory"/>; user addresses are the process's, and the kernel never
/// dereferences them directly: a user page that is not present is faulted in (demand paging,
/// swap-in, copy-on-write), and an address that cannot be served ends the copy (UACC-1..3).
/// Context: process context (the calls may sleep).
/// </summary>
public interface IUserCopy
{
    /// <summary>
    /// copy_from_user(to, from, n): copies <paramref name="n"/> bytes from user address
    /// <paramref name="from"/> of process <paramref name="pid"/> to kernel address <paramref name="to"/>.
    /// Return: the bytes NOT copied (0 on success). A copy that reaches a user byte it cannot read
    /// stops there; the kernel bytes it did not fill are zeroed. A range not wholly below TASK_SIZE
    /// copies nothing (access_ok).
    /// Errors: <see cref="InvalidArgumentException"/> for a negative n; <see cref="KernelPageFaultException"/>
    /// when the kernel buffer itself is not mapped (a kernel bug, not the user's).
    /// </summary>
    long CopyFromUser(int pid, ulong to, ulong from, long n);

    /// <summary>copy_to_user(to, from, n): as <see cref="CopyFromUser"/> the other way; the user bytes past the stop are unspecified.</summary>
    long CopyToUser(int pid, ulong to, ulong from, long n);

    /// <summary>
    /// get_user(x, ptr) of a <paramref name="size"/>-byte value (1, 2, 4, or 8 on a 64-bit profile),
    /// little-endian. Return: 0, or -EFAULT with <paramref name="value"/> set to 0.
    /// Errors: <see cref="InvalidArgumentException"/> for another size.
    /// </summary>
    int GetUser(int pid, ulong addr, int size, out ulong value);

    /// <summary>put_user(x, ptr): stores the low <paramref name="size"/> bytes of <paramref name="value"/>. Return: 0 or -EFAULT (nothing stored).</summary>
    int PutUser(int pid, ulong addr, int size, ulong value);
}
