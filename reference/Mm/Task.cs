using KernelMm.Spec.Contract;

namespace KernelMm.Reference.Mm;

/// <summary>An open file description (struct file): what is open and how.</summary>
internal sealed record OpenFile(ShmemFile? File, CharDevice? Device, OpenMode Mode)
{
    public bool CanRead => Mode != OpenMode.WriteOnly;
    public bool CanWrite => Mode != OpenMode.ReadOnly;
}

/// <summary>A process (task_struct reduced): its pid, its memory descriptor and its descriptor table (files_struct).</summary>
internal sealed class Task(int pid, MmStruct mm)
{
    public int Pid { get; } = pid;
    public MmStruct Mm { get; } = mm;
    /// <summary>fd -> open file; null slots are free.</summary>
    public List<OpenFile?> Files { get; } = new();

    /// <summary>The lowest free descriptor for <paramref name="file"/>.</summary>
    public int Install(OpenFile file)
    {
        int fd = Files.IndexOf(null);
        if (fd < 0) { Files.Add(file); return Files.Count - 1; }
        Files[fd] = file;
        return fd;
    }

    public OpenFile? Get(int fd) => fd >= 0 && fd < Files.Count ? Files[fd] : null;
}
