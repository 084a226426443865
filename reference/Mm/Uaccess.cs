using System.Buffers.Binary;
using KernelMm.Spec.Contract;

namespace KernelMm.Reference.Mm;

/// <summary>
/// copy_from_user, copy_to_user, get_user and put_user (include/linux/uaccess.h, reduced). The
/// kernel never dereferences a user pointer directly: the range must lie below TASK_SIZE
/// (access_ok), and each user page goes through the MMU and the fault handler as a user access
/// would, so a page that is not present is faulted in (swapped-out pages come back) and one that
/// cannot be served stops the copy (UACC-1..3).
/// </summary>
internal sealed class Uaccess(UserVm vm, PageFaults faults)
{
    /// <summary>The bytes between the kernel and a process, page by page; returns the bytes NOT moved.</summary>
    /// <param name="kernelRead">Reads kernel memory (the source of copy_to_user).</param>
    /// <param name="kernelWrite">Writes kernel memory (the destination of copy_from_user).</param>
    public long Copy(MmStruct mm, ulong user, long n, bool toUser, Action<long, Span<byte>> kernelRead, Action<long, ReadOnlySpan<byte>> kernelWrite)
    {
        if (n == 0) return 0;
        // UACC-3: access_ok: a range not wholly in user space is refused before any byte moves.
        if (!AccessOk(user, (ulong)n)) return n;
        // Stryker disable once Conditional,Equality : a stack or a heap buffer of the same size: no test can tell them apart
        Span<byte> chunk = vm.PageSize <= 8192 ? stackalloc byte[vm.PageSize] : new byte[vm.PageSize];
        long done = 0;
        while (done < n)
        {
            ulong at = user + (ulong)done;
            int inPage = (int)(at & ((ulong)vm.PageSize - 1));
            int len = (int)Math.Min(n - done, vm.PageSize - inPage);
            // UACC-1: a copy stops at the first user page it cannot reach.
            if (faults.Access(mm, at, toUser, out ulong pa) != UserFault.None) break;
            var part = chunk[..len];
            int pfn = (int)(pa >> vm.PageShift);
            if (toUser)
            {
                kernelRead(done, part);
                vm.Memory.Write(pfn, inPage, part);
            }
            else
            {
                vm.Memory.Read(pfn, inPage, part);
                kernelWrite(done, part);
            }
            done += len;
        }
        return n - done;
    }

    /// <summary>get_user: 0 and the value, or -EFAULT and 0.</summary>
    public int Get(MmStruct mm, ulong addr, int size, out ulong value)
    {
        Span<byte> bytes = stackalloc byte[8];
        bytes.Clear();
        value = 0;
        if (!AccessOk(addr, (ulong)size)) return -Errno.EFAULT;
        for (int i = 0; i < size;)
        {
            ulong at = addr + (ulong)i;
            int len = Math.Min(size - i, vm.PageSize - (int)(at & ((ulong)vm.PageSize - 1)));
            if (faults.Access(mm, at, false, out ulong pa) != UserFault.None) return -Errno.EFAULT;
            vm.Memory.Read((int)(pa >> vm.PageShift), (int)(pa & ((ulong)vm.PageSize - 1)), bytes.Slice(i, len));
            i += len;
        }
        value = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        return 0;
    }

    /// <summary>put_user: 0, or -EFAULT with nothing stored.</summary>
    public int Put(MmStruct mm, ulong addr, int size, ulong value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        if (!AccessOk(addr, (ulong)size)) return -Errno.EFAULT;
        // Every page the value touches (it may straddle two) is made writable first, so a fault stores nothing.
        for (int i = 0; i < size;)
        {
            ulong at = addr + (ulong)i;
            if (faults.Access(mm, at, true, out _) != UserFault.None) return -Errno.EFAULT;
            i += Math.Min(size - i, vm.PageSize - (int)(at & ((ulong)vm.PageSize - 1)));
        }
        for (int i = 0; i < size;)
        {
            ulong at = addr + (ulong)i;
            int len = Math.Min(size - i, vm.PageSize - (int)(at & ((ulong)vm.PageSize - 1)));
            if (faults.Access(mm, at, true, out ulong pa) != UserFault.None) return -Errno.EFAULT;
            vm.Memory.Write((int)(pa >> vm.PageShift), (int)(pa & ((ulong)vm.PageSize - 1)), bytes.Slice(i, len));
            i += len;
        }
        return 0;
    }

    /// <summary>access_ok: [addr, addr + n) lies wholly below TASK_SIZE (UACC-3).</summary>
    public bool AccessOk(ulong addr, ulong n) => addr <= vm.TaskSize && n <= vm.TaskSize - addr;
}
