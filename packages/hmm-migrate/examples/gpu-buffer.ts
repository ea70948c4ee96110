// A GPU-like device: migrate a buffer into device memory, compute on it
// there (the device doubles every byte), then let the CPU read the result,
// which faults each page back to system memory.
import { AccessKind, MAP_ANONYMOUS, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE, checkInvariants, createKernel } from '@pagewalk/core-walk';
import { HmmTestDevice, hmmMigrate } from '@pagewalk/hmm-migrate';

export function gpuExample(): { migrated: number; onDevice: number; cpuSees: number[]; afterFault: number; problems: string[] } {
  const kernel = createKernel({ features: [hmmMigrate] });
  const mm = kernel.createMm();
  const pages = 4;
  const buffer = mm.mmap(0, pages * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  for (let page = 0; page < pages; page++) mm.access(buffer + page * PAGE_SIZE, AccessKind.Write, 10 + page);

  const gpu = new HmmTestDevice(kernel, 'gpu0');
  const context = gpu.open(mm);

  // Upload: migrate_vma moves every page into device-private memory.
  const { cpages: migrated, data } = context.migrateToDevice(buffer, pages);

  // Compute in device memory: read, double, write back (no CPU page is touched).
  for (let i = 0; i < data!.length; i++) data![i] = (data![i]! * 2) & 0xff;
  context.write(buffer, pages, data!);
  const onDevice = gpu.pagesInUse;

  // Download: each CPU access hits a device-private entry → migrate_to_ram.
  const cpuSees: number[] = [];
  for (let page = 0; page < pages; page++) cpuSees.push(mm.access(buffer + page * PAGE_SIZE, AccessKind.Read));

  return { migrated, onDevice, cpuSees, afterFault: gpu.pagesInUse, problems: checkInvariants(kernel) };
}

console.log(gpuExample());
