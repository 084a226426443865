using KernelMm.Spec.Contract;

namespace KernelMm.Reference;

/// <summary>IUserCopy: copy_from_user, copy_to_user, get_user, put_user (Mm/Uaccess) in a process's context.</summary>
public sealed partial class ReferenceKernel : IUserCopy
{
    public long CopyFromUser(int pid, ulong to, ulong from, long n)
    {
        var mm = User.TaskOf(pid).Mm;
        CheckKernelBuffer(to, n, "copy_from_user");
        long left = User.Uaccess.Copy(mm, from, n, toUser: false, (_, _) => { }, (off, data) => Write(to + (ulong)off, data));
        // UACC-1: the kernel bytes the copy did not fill are zeroed.
        for (long done = n - left; done < n;)
        {
            int len = (int)Math.Min(n - done, _pageSize);
            Write(to + (ulong)done, new byte[len]);
            done += len;
        }
        return left;
    }

    public long CopyToUser(int pid, ulong to, ulong from, long n)
    {
        var mm = User.TaskOf(pid).Mm;
        CheckKernelBuffer(from, n, "copy_to_user");
        return User.Uaccess.Copy(mm, to, n, toUser: true, (off, data) => Read(from + (ulong)off, data), (_, _) => { });
    }

    public int GetUser(int pid, ulong addr, int size, out ulong value)
    {
        var mm = User.TaskOf(pid).Mm;
        CheckValueSize(size, "get_user");
        return User.Uaccess.Get(mm, addr, size, out value);
    }

    public int PutUser(int pid, ulong addr, int size, ulong value)
    {
        var mm = User.TaskOf(pid).Mm;
        CheckValueSize(size, "put_user");
        return User.Uaccess.Put(mm, addr, size, value);
    }

    private void CheckValueSize(int size, string call)
    {
        if (size is not (1 or 2 or 4) && !(size == 8 && Profile.WordSize == 8))
            throw new InvalidArgumentException("size", $"{call} of a {size}-byte value on {Profile.Name}");
    }

    /// <summary>The kernel side of a copy must be mapped kernel memory: a bad one is the kernel's own bug (an oops), raised before any byte moves.</summary>
    private void CheckKernelBuffer(ulong addr, long n, string call)
    {
        if (n < 0) throw new InvalidArgumentException("n", $"{call} of {n} bytes");
        Span<byte> probe = stackalloc byte[1];
        for (long done = 0; done < n;)
        {
            ulong at = addr + (ulong)done;
            Read(at, probe);
            done += _pageSize - (long)(at & (ulong)(_pageSize - 1));
        }
        if (n > 0) Read(addr + (ulong)n - 1, probe);
    }
}
