using KernelMm.Spec.Contract;

namespace KernelMm.Reference.Mm;

/// <summary>
/// The machine's user side: its processes, files and character devices, and the operations that
/// create and end processes (kernel/fork.c, kernel/exit.c, fs/open.c reduced). Mappings are
/// <see cref="MmapOps"/>'s, faults <see cref="PageFaults"/>', copies <see cref="Uaccess"/>'s.
/// </summary>
internal sealed class UserSpace
{
    private readonly UserVm _vm;
    private readonly PageAllocatorTableFrames _tableFrames;
    private readonly Dictionary<int, Task> _tasks = new();
    private readonly Dictionary<int, ShmemFile> _files = new();
    private readonly Dictionary<int, CharDevice> _devices = new() { [Devices.Serial] = new SerialDevice() };
    private int _nextPid = 1, _nextFile = 1, _nextDevice = 1;

    public UserSpace(UserVm vm, PageAllocatorTableFrames tableFrames)
    {
        _vm = vm;
        _tableFrames = tableFrames;
        Swapper = new Swapper(vm);
        Ranges = new PageRanges(vm);
        Faults = new PageFaults(vm, Swapper);
        Driver = new DriverMapOps(vm);
        Mmap = new MmapOps(vm, Ranges, Driver);
        Uaccess = new Uaccess(vm, Faults);
    }

    public UserVm Vm => _vm;
    public Swapper Swapper { get; }
    public PageRanges Ranges { get; }
    public PageFaults Faults { get; }
    public DriverMapOps Driver { get; }
    public MmapOps Mmap { get; }
    public Uaccess Uaccess { get; }
    public int Processes => _tasks.Count;

    public Task TaskOf(int pid) =>
        _tasks.TryGetValue(pid, out var task) ? task : throw new InvalidArgumentException("pid", $"no process {pid}");

    public ShmemFile FileOf(int id) =>
        _files.TryGetValue(id, out var file) ? file : throw new InvalidArgumentException("file", $"no file {id}");

    // ---- Processes ------------------------------------------------------------------------------

    /// <summary>A process with an empty address space: its own top-level page table and ASID. -ENOMEM without a table page.</summary>
    public int CreateProcess()
    {
        var mm = NewMm(_nextPid);
        if (mm is null) return -Errno.ENOMEM;
        var task = new Task(_nextPid++, mm);
        _tasks.Add(task.Pid, task);
        return task.Pid;
    }

    private MmStruct? NewMm(int asid)
    {
        var table = PageTable.Create(_vm.Mmu.Kernel.Format, _tableFrames, PteFlags.UserTable);
        return table is null ? null : new MmStruct(new AddressSpace(table, asid));
    }

    /// <summary>
    /// fork (dup_mm, dup_mmap, copy_page_range): a copy of every mapping, shared ones shared and
    /// private ones copy-on-write (ADDR-4, MMAP-5, MMAP-7), and of the descriptor table. -ENOMEM
    /// with nothing left behind when memory runs out.
    /// </summary>
    public int Fork(int pid)
    {
        var parent = TaskOf(pid);
        var mm = NewMm(_nextPid);
        if (mm is null) return -Errno.ENOMEM;
        var child = new Task(_nextPid++, mm);
        // Reclaim must not swap out the parent's pages while their entries are being copied.
        bool suspended = Swapper.Suspended;
        Swapper.Suspended = true;
        try
        {
            foreach (var vma in parent.Mm.Vmas)
            {
                var copy = vma.Slice(vma.Start, vma.End, _vm.PageShift);
                Mmap.Insert(mm, copy);
                if (!Ranges.CopyForFork(parent.Mm, mm, copy, Faults))
                {
                    Teardown(child);
                    return -Errno.ENOMEM;
                }
            }
        }
        finally { Swapper.Suspended = suspended; }
        child.Files.AddRange(parent.Files);
        _tasks.Add(child.Pid, child);
        return child.Pid;
    }

    /// <summary>exit: every mapping goes (exit_mmap), then the page tables and the ASID; descriptors close.</summary>
    public void Exit(int pid)
    {
        var task = TaskOf(pid);
        _tasks.Remove(pid);
        Teardown(task);
    }

    private void Teardown(Task task)
    {
        Mmap.Unmap(task.Mm, 0, _vm.TaskSize);
        _vm.Mmu.DestroyUser(task.Mm.Space);
        task.Files.Clear();
    }

    // ---- Files and devices --------------------------------------------------------------------

    public int CreateFile(long size)
    {
        if (size < 0) throw new InvalidArgumentException("size", $"negative file size {size}");
        var file = ShmemFile.CreateRegular(_vm, _nextFile, size);
        if (file is null) return -Errno.ENOMEM;
        _files.Add(_nextFile, file);
        return _nextFile++;
    }

    public int Open(int pid, int file, OpenMode mode)
    {
        var task = TaskOf(pid);
        if (mode is not (OpenMode.ReadOnly or OpenMode.WriteOnly or OpenMode.ReadWrite))
            throw new InvalidArgumentException("mode", $"unknown open mode {(int)mode}");
        return task.Install(new OpenFile(FileOf(file), null, mode));
    }

    public int OpenDevice(int pid, int device)
    {
        var task = TaskOf(pid);
        return _devices.TryGetValue(device, out var dev) ? task.Install(new OpenFile(null, dev, OpenMode.ReadWrite)) : -Errno.ENODEV;
    }

    public int Close(int pid, int fd)
    {
        var task = TaskOf(pid);
        if (task.Get(fd) is null) return -Errno.EBADF;
        task.Files[fd] = null;
        return 0;
    }

    public int RegisterDevice(Func<int, CharDevice> make)
    {
        var device = make(_nextDevice);
        _devices.Add(_nextDevice, device);
        return _nextDevice++;
    }

    public CharDevice? DeviceOf(int id) => _devices.GetValueOrDefault(id);
}
