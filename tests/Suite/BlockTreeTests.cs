using KernelMm.Tests.Variants;

namespace KernelMm.Tests.Suite;

/// <summary>
/// TreeKernel's block tree against a brute-force model of the same frames: after every step the
/// per-order counts are exactly the maximal wholly free aligned blocks, and every allocation takes
/// the highest-addressed free aligned block of its order.
/// </summary>
public class BlockTreeTests
{
    [Theory]
    [InlineData(0, 64, 3)]   // whole max-order blocks
    [InlineData(5, 45, 3)]   // a zone starting and ending inside blocks
    [InlineData(16, 16, 2)]  // an empty zone
    [InlineData(1024, 3072, 10)]
    public void Counts_and_placement_match_a_brute_force_model(int start, int end, int maxOrder)
    {
        var tree = new BlockTree(start, end, maxOrder);
        var free = new bool[end + (1 << maxOrder)];
        for (int f = start; f < end; f++) free[f] = true;
        var live = new List<(int Pfn, int Order)>();
        var random = new Random(start * 31 + end);

        AssertMatches(tree, free, start, end, maxOrder);
        for (int step = 0; step < 3000; step++)
        {
            if (live.Count > 0 && random.Next(3) == 0)
            {
                var (pfn, order) = live[random.Next(live.Count)];
                live.Remove((pfn, order));
                tree.Give(pfn, order);
                for (int f = pfn; f < pfn + (1 << order); f++) free[f] = true;
            }
            else
            {
                int order = random.Next(maxOrder + 1);
                int expected = HighestFreeBlock(free, start, end, order);
                int pfn = tree.TakeHighest(order);
                Assert.Equal(expected, pfn);
                if (pfn < 0) continue;
                live.Add((pfn, order));
                for (int f = pfn; f < pfn + (1 << order); f++) free[f] = false;
            }
            AssertMatches(tree, free, start, end, maxOrder);
        }
    }

    private static void AssertMatches(BlockTree tree, bool[] free, int start, int end, int maxOrder)
    {
        long pages = 0;
        for (int order = 0; order <= maxOrder; order++)
        {
            int maximal = 0;
            for (int pfn = 0; pfn < end; pfn += 1 << order)
                if (WhollyFree(free, start, end, pfn, order) && (order == maxOrder || !WhollyFree(free, start, end, pfn & ~((2 << order) - 1), order + 1)))
                    maximal++;
            Assert.Equal(maximal, tree.MaximalBlocks(order));
            pages += (long)maximal << order;
        }
        Assert.Equal(pages, tree.FreePages);
    }

    private static int HighestFreeBlock(bool[] free, int start, int end, int order)
    {
        int highest = -1;
        for (int pfn = 0; pfn < end; pfn += 1 << order)
            if (WhollyFree(free, start, end, pfn, order)) highest = pfn;
        return highest;
    }

    private static bool WhollyFree(bool[] free, int start, int end, int pfn, int order)
    {
        for (int f = pfn; f < pfn + (1 << order); f++)
            if (f < start || f >= end || !free[f]) return false;
        return true;
    }
}
